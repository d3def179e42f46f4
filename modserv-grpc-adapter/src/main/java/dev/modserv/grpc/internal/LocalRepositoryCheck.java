package dev.modserv.grpc.internal;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * With no API key, the repository RPCs (load, unload, index) answer only clients on this machine
 * — a loopback address or the Unix domain socket — as the HTTP management routes do; anyone else
 * gets PERMISSION_DENIED before the message is read.
 */
public final class LocalRepositoryCheck implements ServerInterceptor {
  private static final String REPOSITORY = "inference.GRPCInferenceService/Repository";

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (!call.getMethodDescriptor().getFullMethodName().startsWith(REPOSITORY)
        || local(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR))) {
      return next.startCall(call, headers);
    }
    call.close(Status.PERMISSION_DENIED.withDescription("with no API key the repository RPCs"
        + " answer only clients on this machine (loopback or the Unix socket); set an API key to"
        + " call them remotely"), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  /** Whether the client is on this machine: a loopback address, or not an IP socket at all. */
  static boolean local(@org.jspecify.annotations.Nullable SocketAddress remote) {
    if (remote instanceof InetSocketAddress inet) {
      InetAddress address = inet.getAddress();
      return address != null && address.isLoopbackAddress();
    }
    return true; // a Unix domain socket (or in-process) client is on this machine
  }
}
