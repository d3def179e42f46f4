/**
 * The adapter's implementation, not API: the router, one translator per wire dialect (native,
 * Open Inference Protocol v2, management, operations), JSON tensors and the error-to-status
 * mapping.
 */
@NullMarked
package dev.modserv.http.internal;

import org.jspecify.annotations.NullMarked;
