/**
 * The gRPC adapter's internals: the service implementation, tensor conversion, error mapping,
 * the API key check and the health service. Not part of the API.
 */
@NullMarked
package dev.modserv.grpc.internal;

import org.jspecify.annotations.NullMarked;
