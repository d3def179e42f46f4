package dev.modserv.api;

/**
 * The stable reason a request or an operation failed. Codes are never renamed, renumbered or
 * reused: clients may switch on {@link #name()} and on {@link #value()}. Each code maps to one HTTP
 * status in the REST adapter.
 */
public enum ErrorCode {
  /** No model of that name is registered. HTTP 404. */
  MODEL_NOT_FOUND(1),
  /** The model exists but not the version or label asked for. HTTP 404. */
  VERSION_NOT_FOUND(2),
  /** The model exists but no version of it can serve now (loading, warming, draining). HTTP 503. */
  MODEL_NOT_READY(3),
  /** The request does not fit the model: names, types, shapes, counts, values. HTTP 400. */
  INVALID_INPUT(4),
  /** The model's queue is full; retry after the hint the exception carries. HTTP 503. */
  QUEUE_FULL(5),
  /** The request's deadline passed before it was answered (queued, loading, running). HTTP 504. */
  TIMEOUT(6),
  /** The model version or the server is shutting down and no longer takes this request. HTTP 503. */
  SHUTTING_DOWN(7),
  /** A model could not be loaded or warmed up; the cause says why. HTTP 422 or 500. */
  LOAD_FAILED(8),
  /** Missing or wrong credentials. HTTP 401. */
  UNAUTHORIZED(9),
  /** The request body is larger than allowed. HTTP 413. */
  PAYLOAD_TOO_LARGE(10),
  /** The engine failed while running a valid request; the cause says why. HTTP 500. */
  BACKEND_ERROR(11),
  /**
   * A model does not fit the server's memory budget, even after unloading every idle model; it was
   * not loaded. HTTP 507.
   */
  INSUFFICIENT_MEMORY(12);

  private final int value;

  ErrorCode(int value) {
    this.value = value;
  }

  /** Returns the code's stable number. */
  public int value() {
    return value;
  }
}
