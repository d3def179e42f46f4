package dev.modserv.http.internal;

/**
 * A request the adapter refuses before it reaches the model server: malformed JSON, a field of the
 * wrong type (the message names its path), an unknown route. Carries the HTTP status to answer.
 */
public final class HttpError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;

  /** Creates an error answered with {@code status} and {@code {"error": message}}. */
  public HttpError(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  /** A 400 naming the bad field: {@code "path: message"}. */
  public static HttpError badField(String path, String message) {
    return new HttpError(400, path.isEmpty() ? message : path + ": " + message);
  }

  /** Returns the HTTP status. */
  public int status() {
    return status;
  }
}
