package dev.modserv.http.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.eclipse.jetty.http.HttpException;
import org.jspecify.annotations.Nullable;

/**
 * What a failed request is answered with, in every dialect: the one mapping from a failure to a
 * status, a message and an {@link ErrorCode} (DESIGN.md, "Errors"). Each dialect's {@link
 * ErrorShape} writes it.
 *
 * @param status the HTTP status
 * @param message what went wrong and what to do
 * @param code the error code, when one applies
 * @param field the path of the bad field, when one is to blame
 * @param retryAfter when to retry ({@code QUEUE_FULL}, or a refusal that names a time), else null
 * @param unexpected true for a failure no rule maps (a bug): 500, to be logged
 */
public record Failure(int status, String message, @Nullable ErrorCode code,
    @Nullable String field, @Nullable Duration retryAfter, boolean unexpected) {

  /** Maps {@code failure}; {@code maxBodyBytes} names the limit in Jetty's own 413. */
  public static Failure of(Throwable failure, long maxBodyBytes) {
    Throwable t = unwrap(failure);
    var serving = ModelServingException.find(t);
    if (serving.isPresent()) {
      ModelServingException e = serving.get();
      // QUEUE_FULL always carries one; any other refusal that names a time (a llama worker
      // restarting) passes it on.
      Duration retry = e.code() != ErrorCode.QUEUE_FULL && e.retryAfter().isEmpty() ? null
          : e.retryAfter().orElse(Duration.ofSeconds(1));
      return new Failure(ErrorStatus.of(e.code()), String.valueOf(e.getMessage()), e.code(), null,
          retry, false);
    }
    if (t instanceof HttpError e) {
      return new Failure(e.status(), String.valueOf(e.getMessage()), e.code(), e.field(), null,
          false);
    }
    if (t instanceof JsonProcessingException e) {
      var loc = e.getLocation();
      return new Failure(400, "malformed JSON" + (loc == null ? "" : " at line " + loc.getLineNr()
          + ", column " + loc.getColumnNr()) + ": " + e.getOriginalMessage(),
          ErrorCode.INVALID_INPUT, null, null, false);
    }
    if (t instanceof HttpException e) {
      int code = e.getCode();
      return code == 413
          ? new Failure(413, "request body is larger than " + maxBodyBytes + " bytes",
              ErrorCode.PAYLOAD_TOO_LARGE, null, null, false)
          : new Failure(code, String.valueOf(t.getMessage()), null, null, null, false);
    }
    return new Failure(500, "internal error", null, null, null, true);
  }

  /** Returns the failure inside the wrappers of futures. */
  public static Throwable unwrap(Throwable t) {
    Throwable current = t;
    while ((current instanceof CompletionException || current instanceof ExecutionException)
        && current.getCause() != null) {
      current = current.getCause();
    }
    return current;
  }

  /** The same failure with another message (an unexpected one names its request id). */
  public Failure withMessage(String newMessage) {
    return new Failure(status, newMessage, code, field, retryAfter, unexpected);
  }
}
