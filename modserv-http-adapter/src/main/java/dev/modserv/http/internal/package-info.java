/**
 * The adapter's implementation, not API: the router and its route builder, the exchange, the one
 * mapping from failures to errors ({@link dev.modserv.http.internal.Failure}) and each dialect's
 * error shape, JSON tensors and the other plumbing every dialect shares. Each wire dialect lives
 * in a package of its own below this one and registers its own routes.
 */
@NullMarked
package dev.modserv.http.internal;

import org.jspecify.annotations.NullMarked;
