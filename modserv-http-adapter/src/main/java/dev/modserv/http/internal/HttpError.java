package dev.modserv.http.internal;

import dev.modserv.api.ErrorCode;
import org.jspecify.annotations.Nullable;

/**
 * A request the adapter refuses before it reaches the model server: malformed JSON, a field of the
 * wrong type (the message names its path), a missing API key, a body over the limit, an unknown
 * route. Carries the HTTP status and, where one applies, the {@link ErrorCode} ({@code
 * INVALID_INPUT} for 400, {@code UNAUTHORIZED} for 401, {@code PAYLOAD_TOO_LARGE} for 413); an
 * unknown route (404), a wrong method (405) or a path outside the model root (403) has none.
 */
public final class HttpError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final @Nullable ErrorCode code;
  private final @Nullable String field;

  /** Creates an error answered with {@code code}'s status. */
  public HttpError(ErrorCode code, String message) {
    this(ErrorStatus.of(code), code, message, null);
  }

  /** Creates an error answered with {@code status}, and the error code of that status if any. */
  public HttpError(int status, String message) {
    this(status, codeOf(status), message, null);
  }

  private HttpError(int status, @Nullable ErrorCode code, String message,
      @Nullable String field) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.field = field;
  }

  /**
   * A 400 naming the bad field: {@code "path: message"}; a path that holds a client's key (an
   * input's name) is escaped and cut ({@link ClientText}).
   */
  public static HttpError badField(String path, String message) {
    String field = ClientText.echo(path);
    return new HttpError(400, ErrorCode.INVALID_INPUT,
        field.isEmpty() ? message : field + ": " + message, field.isEmpty() ? null : field);
  }

  private static @Nullable ErrorCode codeOf(int status) {
    return switch (status) {
      case 400 -> ErrorCode.INVALID_INPUT;
      case 401 -> ErrorCode.UNAUTHORIZED;
      case 413 -> ErrorCode.PAYLOAD_TOO_LARGE;
      case 500 -> ErrorCode.BACKEND_ERROR;
      default -> null;
    };
  }

  /** Returns the path of the bad field, when one is to blame. */
  public @Nullable String field() {
    return field;
  }

  /** Returns the HTTP status. */
  public int status() {
    return status;
  }

  /** Returns the error code, when one applies. */
  public @Nullable ErrorCode code() {
    return code;
  }
}
