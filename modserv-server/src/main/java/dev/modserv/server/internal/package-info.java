/**
 * The standalone server's workings, not API: the command line, {@code model.yaml} parsing, the
 * repository scanner and poller, the default model and load progress.
 */
@NullMarked
package dev.modserv.server.internal;

import org.jspecify.annotations.NullMarked;
