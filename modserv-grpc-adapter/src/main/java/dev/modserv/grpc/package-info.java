/**
 * The gRPC adapter's public API: {@link dev.modserv.grpc.GrpcAdapter}, which serves a {@code
 * ModelServer} over the Open Inference Protocol v2 gRPC service and the standard health service.
 * See {@code docs/grpc.md}.
 */
@NullMarked
package dev.modserv.grpc;

import org.jspecify.annotations.NullMarked;
