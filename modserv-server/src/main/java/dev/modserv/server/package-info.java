/**
 * The standalone server: {@link dev.modserv.server.Main} runs {@code modserv serve}, which serves a
 * model repository folder (or a default embedding model) over HTTP.
 */
@NullMarked
package dev.modserv.server;

import org.jspecify.annotations.NullMarked;
