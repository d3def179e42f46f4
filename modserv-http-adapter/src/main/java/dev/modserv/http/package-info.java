/**
 * The REST adapter's public API: {@link dev.modserv.http.HttpAdapter}, which runs a standalone
 * Jetty server over a {@link dev.modserv.core.ModelServer} or gives a {@link
 * org.eclipse.jetty.server.Handler} to mount in an existing one.
 */
@NullMarked
package dev.modserv.http;

import org.jspecify.annotations.NullMarked;
