package dev.modserv.api;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * The one exception modserv throws for serving failures. It carries a stable {@link ErrorCode};
 * its message says what was expected, what came and what to do.
 *
 * <p>Asynchronous calls complete their futures with this exception, usually wrapped in a {@link
 * CompletionException} or {@link ExecutionException}: {@link #find(Throwable)} and {@link
 * #codeOf(Throwable)} look through such wrappers.
 */
public class ModelServingException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;
  private final @Nullable Duration retryAfter;

  /** Creates an exception with a code and a message. */
  public ModelServingException(ErrorCode code, String message) {
    this(code, message, null, null);
  }

  /** Creates an exception with a code, a message and a cause. */
  public ModelServingException(ErrorCode code, String message, @Nullable Throwable cause) {
    this(code, message, cause, null);
  }

  /**
   * Creates an exception with a code, a message, a cause and a hint of when a retry may succeed
   * (for {@link ErrorCode#QUEUE_FULL}).
   */
  public ModelServingException(
      ErrorCode code, String message, @Nullable Throwable cause, @Nullable Duration retryAfter) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
    this.retryAfter = retryAfter;
  }

  /** Returns the stable error code. */
  public ErrorCode code() {
    return code;
  }

  /** Returns how long to wait before retrying, when the server could tell. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /**
   * Returns the first {@code ModelServingException} in {@code failure}'s cause chain, looking
   * through {@link CompletionException}, {@link ExecutionException} and any other wrapper.
   */
  public static Optional<ModelServingException> find(@Nullable Throwable failure) {
    Throwable current = failure;
    for (int depth = 0; current != null && depth < 32; depth++) {
      if (current instanceof ModelServingException e) {
        return Optional.of(e);
      }
      current = current.getCause();
    }
    return Optional.empty();
  }

  /**
   * Returns the error code found in {@code failure}'s cause chain (see {@link #find(Throwable)}),
   * or empty when no {@code ModelServingException} is in it.
   */
  public static Optional<ErrorCode> codeOf(@Nullable Throwable failure) {
    return find(failure).map(ModelServingException::code);
  }

  @Override
  public String toString() {
    return getClass().getName() + ": [" + code + "] " + getMessage();
  }
}
