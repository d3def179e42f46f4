package dev.modserv.api;

/**
 * Where a generation's time went, in nanoseconds (Ollama reports these as they are).
 *
 * @param queueNanos from submission until a sequence was free and the engine took it
 * @param timeToFirstTokenNanos from submission until the first token came (queue, prompt
 *     evaluation and the first step); the whole time when no token came
 * @param generationNanos from the first token until the last one
 * @param totalNanos from submission until the end
 */
public record GenerationTimings(long queueNanos, long timeToFirstTokenNanos, long generationNanos,
    long totalNanos) {

  /** Checks the values. */
  public GenerationTimings {
    if (queueNanos < 0 || timeToFirstTokenNanos < 0 || generationNanos < 0 || totalNanos < 0) {
      throw new IllegalArgumentException("timings must be >= 0");
    }
  }

  /** Returns the prompt evaluation time: time to first token minus the queue wait. */
  public long promptNanos() {
    return Math.max(0, timeToFirstTokenNanos - queueNanos);
  }

  /** Returns completion tokens per second over {@link #generationNanos}, or 0 when unknown. */
  public double tokensPerSecond(int completionTokens) {
    return completionTokens < 2 || generationNanos == 0 ? 0
        : (completionTokens - 1) * 1e9 / generationNanos;
  }
}
