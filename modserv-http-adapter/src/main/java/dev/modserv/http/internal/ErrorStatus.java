package dev.modserv.http.internal;

import dev.modserv.api.ErrorCode;

/** The one HTTP status of each {@link ErrorCode} (DESIGN.md, "Errors"). */
public final class ErrorStatus {
  private ErrorStatus() {}

  /** Returns the HTTP status {@code code} is answered with. */
  public static int of(ErrorCode code) {
    return switch (code) {
      case MODEL_NOT_FOUND, VERSION_NOT_FOUND -> 404;
      case MODEL_NOT_READY, QUEUE_FULL, SHUTTING_DOWN -> 503;
      case INVALID_INPUT -> 400;
      case TIMEOUT -> 504;
      // The model file or its configuration is bad: the request was understood but cannot be done.
      case LOAD_FAILED -> 422;
      case UNAUTHORIZED -> 401;
      case PAYLOAD_TOO_LARGE -> 413;
      case BACKEND_ERROR -> 500;
      case INSUFFICIENT_MEMORY -> 507;
    };
  }
}
