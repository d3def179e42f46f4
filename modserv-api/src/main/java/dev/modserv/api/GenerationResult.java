package dev.modserv.api;

import java.util.Objects;

/**
 * A whole generation, collected from its stream.
 *
 * @param text the generated text (stop strings removed)
 * @param finishReason why it ended
 * @param usage the tokens used
 * @param timings where the time went
 */
public record GenerationResult(String text, FinishReason finishReason, Usage usage,
    GenerationTimings timings) {

  /** Checks for nulls. */
  public GenerationResult {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(finishReason, "finishReason");
    Objects.requireNonNull(usage, "usage");
    Objects.requireNonNull(timings, "timings");
  }
}
