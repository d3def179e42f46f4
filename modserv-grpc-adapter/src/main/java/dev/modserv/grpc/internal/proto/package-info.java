/**
 * Classes protoc generates at build time from {@code src/main/proto/grpc_service.proto}: the
 * protocol's messages and the service base class. Not part of the API.
 */
@NullMarked
package dev.modserv.grpc.internal.proto;

import org.jspecify.annotations.NullMarked;
