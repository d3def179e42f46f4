/**
 * modserv's gRPC adapter: {@link dev.modserv.grpc.GrpcAdapter} serves a {@link
 * dev.modserv.core.ModelServer} over the Open Inference Protocol v2 gRPC service ({@code
 * inference.GRPCInferenceService}, as KServe and Triton clients call it) and {@code
 * grpc.health.v1}, over TCP and optionally a Unix domain socket.
 */
@org.jspecify.annotations.NullMarked
module dev.modserv.grpc {
  requires transitive dev.modserv.core;
  requires transitive io.grpc;
  requires io.grpc.stub;
  requires io.grpc.protobuf;
  requires io.grpc.services;
  requires io.grpc.netty.shaded;
  requires com.google.protobuf;
  // google.rpc.Status and RetryInfo (proto-google-common-protos names no module of its own).
  requires proto.google.common.protos;
  requires com.google.common;
  requires org.slf4j;
  requires static org.jspecify;

  exports dev.modserv.grpc;
}
