/** The registry, leases, dispatch, validation and metrics behind {@code ModelServer}; not API. */
@NullMarked
package dev.modserv.core.internal;

import org.jspecify.annotations.NullMarked;
