/** Liveness, readiness and metrics ({@code /health}, {@code /ready}, {@code /metrics}), always served. */
@NullMarked
package dev.modserv.http.internal.operations;

import org.jspecify.annotations.NullMarked;
