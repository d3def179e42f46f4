package dev.modserv.spi;

/** Controls one generation an engine started. */
@FunctionalInterface
public interface GenerationHandle {
  /**
   * Stops the generation in the engine and frees its sequence; the engine then completes the sink
   * with {@code CANCELLED} (or not at all: the server completes it). Idempotent; any thread.
   */
  void cancel();
}
