package dev.modserv.grpc.internal;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Set;

/**
 * Requires {@code authorization: Bearer <key>} metadata on every call but liveness and readiness
 * (as the HTTP side leaves its probes open), comparing digests in constant time. A call without
 * the key is closed with UNAUTHENTICATED before its message is read.
 */
public final class ApiKeyCheck implements ServerInterceptor {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final String BEARER = "Bearer ";
  /** Probes: the protocol's liveness and readiness, and every method of grpc.health.v1. */
  private static final Set<String> OPEN = Set.of("inference.GRPCInferenceService/ServerLive",
      "inference.GRPCInferenceService/ServerReady");

  private final byte[] keyHash;

  /** Checks for {@code key}. */
  public ApiKeyCheck(String key) {
    this.keyHash = sha256(key);
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    if (OPEN.contains(method) || method.startsWith("grpc.health.v1.Health/")) {
      return next.startCall(call, headers);
    }
    String given = headers.get(AUTHORIZATION);
    boolean ok = given != null && given.regionMatches(true, 0, BEARER, 0, BEARER.length())
        && MessageDigest.isEqual(keyHash, sha256(given.substring(BEARER.length()).strip()));
    if (!ok) {
      Metadata trailers = new Metadata();
      trailers.put(GrpcErrors.ERROR_CODE, "UNAUTHORIZED");
      call.close(Status.UNAUTHENTICATED.withDescription(given == null
          ? "missing 'authorization: Bearer <key>' metadata"
          : "wrong API key in the authorization metadata"), trailers);
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }
}
