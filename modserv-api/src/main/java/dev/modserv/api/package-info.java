/**
 * Value types shared by callers and engines: {@link dev.modserv.api.Tensor}, model metadata,
 * references, requests, results and the errors with stable codes.
 */
@NullMarked
package dev.modserv.api;

import org.jspecify.annotations.NullMarked;
