package dev.modserv.langchain4j;

import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * LangChain4j's common chat parameters plus the sampling settings modserv's generation takes and
 * LangChain4j has no name for: {@code seed}, {@code minP} and {@code repeatPenalty}. Pass them per
 * request ({@code ChatRequest.builder().parameters(...)}) or as a model's defaults ({@code
 * defaultRequestParameters(...)} on the builders); a value set on the request wins.
 *
 * <pre>{@code
 * ChatRequest request = ChatRequest.builder()
 *     .messages(UserMessage.from("Hello"))
 *     .parameters(ModservChatRequestParameters.builder().temperature(0.0).seed(7L).build())
 *     .build();
 * }</pre>
 */
public final class ModservChatRequestParameters extends DefaultChatRequestParameters {
  private final @Nullable Long seed;
  private final @Nullable Double minP;
  private final @Nullable Double repeatPenalty;

  private ModservChatRequestParameters(Builder builder) {
    super(builder);
    this.seed = builder.seed;
    this.minP = builder.minP;
    this.repeatPenalty = builder.repeatPenalty;
  }

  /** Returns a builder with nothing set. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the sampling seed; with a seed (or temperature 0) outputs repeat. */
  public @Nullable Long seed() {
    return seed;
  }

  /** Returns min-p sampling's threshold. */
  public @Nullable Double minP() {
    return minP;
  }

  /** Returns the repetition penalty; 1 turns it off. */
  public @Nullable Double repeatPenalty() {
    return repeatPenalty;
  }

  @Override
  public ModservChatRequestParameters overrideWith(ChatRequestParameters that) {
    return builder().overrideWith(this).overrideWith(that).build();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof ModservChatRequestParameters that && super.equals(o)
        && Objects.equals(seed, that.seed) && Objects.equals(minP, that.minP)
        && Objects.equals(repeatPenalty, that.repeatPenalty);
  }

  @Override
  public int hashCode() {
    return Objects.hash(super.hashCode(), seed, minP, repeatPenalty);
  }

  @Override
  public String toString() {
    return "ModservChatRequestParameters{" + super.toString() + ", seed=" + seed + ", minP="
        + minP + ", repeatPenalty=" + repeatPenalty + "}";
  }

  /** Builds {@link ModservChatRequestParameters}; values are checked when a request is made. */
  public static final class Builder extends DefaultChatRequestParameters.Builder<Builder> {
    private @Nullable Long seed;
    private @Nullable Double minP;
    private @Nullable Double repeatPenalty;

    private Builder() {}

    /** Takes every value {@code parameters} sets, modserv's own ones included. */
    @Override
    public Builder overrideWith(ChatRequestParameters parameters) {
      super.overrideWith(parameters);
      if (parameters instanceof ModservChatRequestParameters modserv) {
        seed = modserv.seed != null ? modserv.seed : seed;
        minP = modserv.minP != null ? modserv.minP : minP;
        repeatPenalty = modserv.repeatPenalty != null ? modserv.repeatPenalty : repeatPenalty;
      }
      return this;
    }

    /** Sets the seed, 0 or more. */
    public Builder seed(@Nullable Long seed) {
      this.seed = seed;
      return this;
    }

    /** Sets min-p, in [0, 1]. */
    public Builder minP(@Nullable Double minP) {
      this.minP = minP;
      return this;
    }

    /** Sets the repetition penalty, above 0 (1 is off). */
    public Builder repeatPenalty(@Nullable Double repeatPenalty) {
      this.repeatPenalty = repeatPenalty;
      return this;
    }

    @Override
    public ModservChatRequestParameters build() {
      return new ModservChatRequestParameters(this);
    }
  }
}
