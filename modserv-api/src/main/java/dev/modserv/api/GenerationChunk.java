package dev.modserv.api;

import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One piece of a streamed generation: the text generated since the previous chunk. The last chunk
 * of a stream ({@link #last()}) also carries why it ended, the usage and the timings; its text may
 * be empty.
 *
 * @param text the text delta (may be empty)
 * @param completionTokens tokens generated so far, this chunk's included (for chunks before the
 *     last one, a count of engine steps; the last chunk's usage is the tokenizer's count)
 * @param finishReason set on the last chunk only
 * @param usage set on the last chunk only
 * @param timings set on the last chunk only
 */
public record GenerationChunk(String text, int completionTokens,
    @Nullable FinishReason finishReason, @Nullable Usage usage,
    @Nullable GenerationTimings timings) {

  /** Checks that the last chunk carries all three end fields and others none. */
  public GenerationChunk {
    Objects.requireNonNull(text, "text");
    boolean end = finishReason != null;
    if ((usage != null) != end || (timings != null) != end) {
      throw new IllegalArgumentException("finishReason, usage and timings come together, on the"
          + " last chunk only");
    }
  }

  /** Returns a chunk in the middle of a stream. */
  public static GenerationChunk delta(String text, int completionTokens) {
    return new GenerationChunk(text, completionTokens, null, null, null);
  }

  /** Returns the last chunk of a stream. */
  public static GenerationChunk last(String text, FinishReason reason, Usage usage,
      GenerationTimings timings) {
    return new GenerationChunk(text, usage.completionTokens(), reason, usage, timings);
  }

  /** Returns whether this is the stream's last chunk. */
  public boolean last() {
    return finishReason != null;
  }

  /** Returns the finish reason if this is the last chunk. */
  public Optional<FinishReason> finish() {
    return Optional.ofNullable(finishReason);
  }
}
