package dev.modserv.http.internal;

import org.jspecify.annotations.Nullable;

/**
 * A request the adapter refuses before it reaches the model server: malformed JSON, a field of the
 * wrong type (the message names its path), an unknown route. Carries the HTTP status to answer.
 */
public final class HttpError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final @Nullable String field;

  /** Creates an error answered with {@code status} and {@code {"error": message}}. */
  public HttpError(int status, String message) {
    this(status, message, null);
  }

  private HttpError(int status, String message, @Nullable String field) {
    super(message, null, false, false);
    this.status = status;
    this.field = field;
  }

  /** A 400 naming the bad field: {@code "path: message"}. */
  public static HttpError badField(String path, String message) {
    return new HttpError(400, path.isEmpty() ? message : path + ": " + message,
        path.isEmpty() ? null : path);
  }

  /** Returns the path of the bad field, when one is to blame. */
  public @Nullable String field() {
    return field;
  }

  /** Returns the HTTP status. */
  public int status() {
    return status;
  }
}
