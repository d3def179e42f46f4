package dev.modserv.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * A text generation request: a raw prompt, or chat messages rendered with the model's chat
 * template, plus sampling settings. Settings left unset take the engine's defaults. Built with
 * {@link #builder(String)}; every value is checked when built, with {@code INVALID_INPUT}.
 *
 * <pre>{@code
 * GenerationRequest request = GenerationRequest.builder("tiny")
 *     .messages(List.of(ChatMessage.user("Hello")))
 *     .maxTokens(64).temperature(0).seed(7).stop(List.of("\n\n"))
 *     .build();
 * }</pre>
 */
public final class GenerationRequest {
  /** Tokens generated when {@link Builder#maxTokens} is not set. */
  public static final int DEFAULT_MAX_TOKENS = 256;
  /** At most this many stop strings (as OpenAI). */
  public static final int MAX_STOP_STRINGS = 4;

  private final ModelRef model;
  private final @Nullable String prompt;
  private final List<ChatMessage> messages;
  private final int maxTokens;
  private final @Nullable Double temperature;
  private final @Nullable Double topP;
  private final @Nullable Integer topK;
  private final @Nullable Double minP;
  private final @Nullable Double repeatPenalty;
  private final @Nullable Long seed;
  private final List<String> stop;
  private final @Nullable String grammar;
  private final @Nullable String jsonSchema;
  private final @Nullable Duration timeout;

  private GenerationRequest(Builder b) {
    this.model = b.model;
    this.prompt = b.prompt;
    this.messages = List.copyOf(b.messages);
    this.maxTokens = b.maxTokens;
    this.temperature = b.temperature;
    this.topP = b.topP;
    this.topK = b.topK;
    this.minP = b.minP;
    this.repeatPenalty = b.repeatPenalty;
    this.seed = b.seed;
    this.stop = List.copyOf(b.stop);
    this.grammar = b.grammar;
    this.jsonSchema = b.jsonSchema;
    this.timeout = b.timeout;
  }

  /** Starts a request to the model {@code ref} names (see {@link ModelRef#parse(String)}). */
  public static Builder builder(String ref) {
    return new Builder(ModelRef.parse(ref));
  }

  /** Starts a request to {@code model}. */
  public static Builder builder(ModelRef model) {
    return new Builder(Objects.requireNonNull(model, "model"));
  }

  /** Returns a builder holding this request's values, to change some. */
  public Builder toBuilder() {
    Builder b = new Builder(model);
    b.prompt = prompt;
    b.messages.addAll(messages);
    b.maxTokens = maxTokens;
    b.temperature = temperature;
    b.topP = topP;
    b.topK = topK;
    b.minP = minP;
    b.repeatPenalty = repeatPenalty;
    b.seed = seed;
    b.stop.addAll(stop);
    b.grammar = grammar;
    b.jsonSchema = jsonSchema;
    b.timeout = timeout;
    return b;
  }

  /** Returns the model asked for. */
  public ModelRef model() {
    return model;
  }

  /** Returns the raw prompt, when the request is not a chat. */
  public Optional<String> prompt() {
    return Optional.ofNullable(prompt);
  }

  /** Returns the chat messages; empty when the request has a raw prompt. */
  public List<ChatMessage> messages() {
    return messages;
  }

  /** Returns whether the request is a chat (messages rendered with the chat template). */
  public boolean isChat() {
    return prompt == null;
  }

  /** Returns the most tokens to generate; reaching it ends with {@link FinishReason#LENGTH}. */
  public int maxTokens() {
    return maxTokens;
  }

  /** Returns the sampling temperature; 0 is greedy. */
  public OptionalDouble temperature() {
    return temperature == null ? OptionalDouble.empty() : OptionalDouble.of(temperature);
  }

  /** Returns nucleus sampling's probability mass. */
  public OptionalDouble topP() {
    return topP == null ? OptionalDouble.empty() : OptionalDouble.of(topP);
  }

  /** Returns top-k sampling's k; 0 turns it off. */
  public OptionalInt topK() {
    return topK == null ? OptionalInt.empty() : OptionalInt.of(topK);
  }

  /** Returns min-p sampling's threshold. */
  public OptionalDouble minP() {
    return minP == null ? OptionalDouble.empty() : OptionalDouble.of(minP);
  }

  /** Returns the repetition penalty; 1 turns it off. */
  public OptionalDouble repeatPenalty() {
    return repeatPenalty == null ? OptionalDouble.empty() : OptionalDouble.of(repeatPenalty);
  }

  /** Returns the sampling seed; with temperature 0 or a seed, outputs repeat. */
  public OptionalLong seed() {
    return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
  }

  /** Returns the stop strings: generation ends before the first one, which is not returned. */
  public List<String> stop() {
    return stop;
  }

  /** Returns a GBNF grammar constraining the output, where the engine supports it. */
  public Optional<String> grammar() {
    return Optional.ofNullable(grammar);
  }

  /** Returns a JSON schema constraining the output, where the engine supports it. */
  public Optional<String> jsonSchema() {
    return Optional.ofNullable(jsonSchema);
  }

  /**
   * Returns how long the whole generation may take, waiting for a sequence included; past it, it
   * is cancelled in the engine and fails with TIMEOUT.
   */
  public Optional<Duration> timeout() {
    return Optional.ofNullable(timeout);
  }

  @Override
  public String toString() {
    return "GenerationRequest[" + model + ", " + (prompt != null ? prompt.length()
        + " prompt chars" : messages.size() + " messages") + ", maxTokens=" + maxTokens + "]";
  }

  /** Builds a {@link GenerationRequest}. */
  public static final class Builder {
    private final ModelRef model;
    private @Nullable String prompt;
    private final List<ChatMessage> messages = new ArrayList<>();
    private int maxTokens = DEFAULT_MAX_TOKENS;
    private @Nullable Double temperature;
    private @Nullable Double topP;
    private @Nullable Integer topK;
    private @Nullable Double minP;
    private @Nullable Double repeatPenalty;
    private @Nullable Long seed;
    private final List<String> stop = new ArrayList<>();
    private @Nullable String grammar;
    private @Nullable String jsonSchema;
    private @Nullable Duration timeout;

    private Builder(ModelRef model) {
      this.model = model;
    }

    /** Sets a raw prompt (no chat template); replaces messages. */
    public Builder prompt(String prompt) {
      this.prompt = Objects.requireNonNull(prompt, "prompt");
      this.messages.clear();
      return this;
    }

    /** Sets the chat messages; replaces a prompt. */
    public Builder messages(List<ChatMessage> messages) {
      this.messages.clear();
      this.messages.addAll(messages);
      this.prompt = null;
      return this;
    }

    /** Sets the most tokens to generate, at least 1; defaults to {@value #DEFAULT_MAX_TOKENS}. */
    public Builder maxTokens(int maxTokens) {
      this.maxTokens = maxTokens;
      return this;
    }

    /** Sets the temperature, 0 (greedy) or more. */
    public Builder temperature(double temperature) {
      this.temperature = temperature;
      return this;
    }

    /** Sets top-p, in (0, 1]. */
    public Builder topP(double topP) {
      this.topP = topP;
      return this;
    }

    /** Sets top-k, 0 (off) or more. */
    public Builder topK(int topK) {
      this.topK = topK;
      return this;
    }

    /** Sets min-p, in [0, 1]. */
    public Builder minP(double minP) {
      this.minP = minP;
      return this;
    }

    /** Sets the repetition penalty, above 0 (1 is off). */
    public Builder repeatPenalty(double repeatPenalty) {
      this.repeatPenalty = repeatPenalty;
      return this;
    }

    /** Sets the seed, 0 or more. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Sets the stop strings, at most {@value #MAX_STOP_STRINGS}, none empty. */
    public Builder stop(List<String> stop) {
      this.stop.clear();
      this.stop.addAll(stop);
      return this;
    }

    /** Sets a GBNF grammar; excludes a JSON schema. */
    public Builder grammar(String grammar) {
      this.grammar = Objects.requireNonNull(grammar, "grammar");
      return this;
    }

    /** Sets a JSON schema the output must follow; excludes a grammar. */
    public Builder jsonSchema(String schema) {
      this.jsonSchema = Objects.requireNonNull(schema, "schema");
      return this;
    }

    /** Sets how long the whole generation may take, the wait for a sequence included; positive. */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * Returns the request.
     *
     * @throws ModelServingException {@code INVALID_INPUT} naming the first bad value
     */
    public GenerationRequest build() {
      if (prompt == null && messages.isEmpty()) {
        throw invalid("a generation request needs a prompt or at least one chat message");
      }
      if (maxTokens < 1) {
        throw invalid("maxTokens must be >= 1, got " + maxTokens);
      }
      check(temperature, "temperature", 0, Double.MAX_VALUE, true);
      check(topP, "topP", 0, 1, false);
      check(minP, "minP", 0, 1, true);
      check(repeatPenalty, "repeatPenalty", 0, Double.MAX_VALUE, false);
      if (topK != null && topK < 0) {
        throw invalid("topK must be >= 0, got " + topK);
      }
      if (seed != null && seed < 0) {
        throw invalid("seed must be >= 0, got " + seed);
      }
      if (stop.size() > MAX_STOP_STRINGS) {
        throw invalid("at most " + MAX_STOP_STRINGS + " stop strings, got " + stop.size());
      }
      for (String s : stop) {
        if (s == null || s.isEmpty()) {
          throw invalid("stop strings must not be empty");
        }
      }
      if (grammar != null && jsonSchema != null) {
        throw invalid("give a grammar or a JSON schema, not both");
      }
      if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
        throw invalid("timeout must be positive, got " + timeout);
      }
      return new GenerationRequest(this);
    }

    private static void check(@Nullable Double value, String name, double low, double high,
        boolean lowIncluded) {
      if (value == null) {
        return;
      }
      boolean ok = !value.isNaN() && (lowIncluded ? value >= low : value > low) && value <= high;
      if (!ok) {
        throw invalid(name + " must be in " + (lowIncluded ? "[" : "(") + low + ", "
            + (high == Double.MAX_VALUE ? "inf)" : high + "]") + ", got " + value);
      }
    }

    private static ModelServingException invalid(String message) {
      return new ModelServingException(ErrorCode.INVALID_INPUT, message);
    }
  }
}
