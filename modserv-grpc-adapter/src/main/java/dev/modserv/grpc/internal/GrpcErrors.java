package dev.modserv.grpc.internal;

import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one gRPC status of each {@link ErrorCode} (docs/grpc.md, "Errors"). Every error also carries
 * the code's name in the {@code modserv-error-code} trailer; a refusal that says when to retry
 * ({@code QUEUE_FULL} always) carries a {@code google.rpc.RetryInfo} detail and a {@code
 * retry-after} trailer in whole seconds, as the HTTP side's header.
 */
public final class GrpcErrors {
  private static final Logger log = LoggerFactory.getLogger(GrpcErrors.class);

  /** The trailer naming the {@link ErrorCode}. */
  public static final Metadata.Key<String> ERROR_CODE =
      Metadata.Key.of("modserv-error-code", Metadata.ASCII_STRING_MARSHALLER);
  /** The trailer saying after how many seconds to retry. */
  public static final Metadata.Key<String> RETRY_AFTER =
      Metadata.Key.of("retry-after", Metadata.ASCII_STRING_MARSHALLER);

  private GrpcErrors() {}

  /** Returns the gRPC status code {@code code} is answered with. */
  public static Status.Code of(ErrorCode code) {
    return switch (code) {
      case MODEL_NOT_FOUND, VERSION_NOT_FOUND -> Status.Code.NOT_FOUND;
      case MODEL_NOT_READY, QUEUE_FULL, SHUTTING_DOWN -> Status.Code.UNAVAILABLE;
      case INVALID_INPUT -> Status.Code.INVALID_ARGUMENT;
      case TIMEOUT -> Status.Code.DEADLINE_EXCEEDED;
      // The model file or its configuration is bad: retrying will not help until it is fixed.
      case LOAD_FAILED -> Status.Code.FAILED_PRECONDITION;
      case UNAUTHORIZED -> Status.Code.UNAUTHENTICATED;
      case PAYLOAD_TOO_LARGE, INSUFFICIENT_MEMORY -> Status.Code.RESOURCE_EXHAUSTED;
      case BACKEND_ERROR -> Status.Code.INTERNAL;
    };
  }

  /** Returns what a call that failed with {@code failure} is closed with. */
  public static StatusRuntimeException toStatus(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof StatusRuntimeException s) {
      return s;
    }
    var serving = ModelServingException.find(t);
    if (serving.isEmpty()) {
      log.error("unexpected failure of a gRPC call", t);
      return Status.INTERNAL.withDescription("internal error; the server log has the cause")
          .asRuntimeException();
    }
    ModelServingException e = serving.get();
    Metadata trailers = new Metadata();
    trailers.put(ERROR_CODE, e.code().name());
    Duration retry = e.code() != ErrorCode.QUEUE_FULL && e.retryAfter().isEmpty() ? null
        : e.retryAfter().orElse(Duration.ofSeconds(1));
    com.google.rpc.Status.Builder status = com.google.rpc.Status.newBuilder()
        .setCode(of(e.code()).value())
        .setMessage(String.valueOf(e.getMessage()));
    if (retry != null) {
      status.addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(
          com.google.protobuf.Duration.newBuilder().setSeconds(retry.getSeconds())
              .setNanos(retry.getNano())).build()));
      // Whole seconds, rounded up, as HTTP's Retry-After.
      trailers.put(RETRY_AFTER, Long.toString(Math.max(1,
          retry.getSeconds() + (retry.getNano() > 0 ? 1 : 0))));
    }
    return StatusProto.toStatusRuntimeException(status.build(), trailers);
  }
}
