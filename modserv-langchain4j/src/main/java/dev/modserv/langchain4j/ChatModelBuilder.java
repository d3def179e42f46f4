package dev.modserv.langchain4j;

import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.modserv.api.ModelRef;
import dev.modserv.core.ModelServer;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The settings {@link ModservChatModel.Builder} and {@link ModservStreamingChatModel.Builder}
 * share, named as LangChain4j's own model builders name them. Values given one by one win over
 * those of {@link #defaultRequestParameters}; a request's own parameters win over both.
 */
abstract class ChatModelBuilder<B extends ChatModelBuilder<B>> {
  private @Nullable ModelServer modelServer;
  private @Nullable String modelName;
  private @Nullable Long modelVersion;
  private @Nullable ChatRequestParameters defaultRequestParameters;
  private final ModservChatRequestParameters.Builder parameters =
      ModservChatRequestParameters.builder();
  private @Nullable Duration timeout;
  private List<ChatModelListener> listeners = List.of();

  ChatModelBuilder() {}

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }

  /** Sets the server the model calls; required. The server belongs to the caller. */
  public B modelServer(ModelServer modelServer) {
    this.modelServer = Objects.requireNonNull(modelServer, "modelServer");
    return self();
  }

  /**
   * Sets the model to chat with, as the server's registry names it; required. {@code name}
   * serves the highest ready version, {@code name:3} version 3, {@code name:stable} the version
   * that label points at.
   */
  public B modelName(String modelName) {
    this.modelName = ModelRef.parse(modelName).toString();
    return self();
  }

  /** Pins the version of {@link #modelName(String)}; unset, the highest ready version serves. */
  public B modelVersion(long modelVersion) {
    this.modelVersion = ModelRef.requireVersion(modelVersion);
    return self();
  }

  /** Sets the sampling temperature, 0 (greedy) or more; the engine's default when unset. */
  public B temperature(@Nullable Double temperature) {
    parameters.temperature(temperature);
    return self();
  }

  /** Sets nucleus sampling's probability mass, in (0, 1]. */
  public B topP(@Nullable Double topP) {
    parameters.topP(topP);
    return self();
  }

  /** Sets top-k sampling's k, 0 (off) or more. */
  public B topK(@Nullable Integer topK) {
    parameters.topK(topK);
    return self();
  }

  /** Sets the most tokens to generate; modserv's default (256) when unset. */
  public B maxOutputTokens(@Nullable Integer maxOutputTokens) {
    parameters.maxOutputTokens(maxOutputTokens);
    return self();
  }

  /** Sets the stop strings, at most 4: generation ends before the first one, not returned. */
  public B stopSequences(@Nullable List<String> stopSequences) {
    parameters.stopSequences(stopSequences);
    return self();
  }

  /** Sets the sampling seed, 0 or more: with a seed (or temperature 0) answers repeat. */
  public B seed(@Nullable Long seed) {
    parameters.seed(seed);
    return self();
  }

  /** Sets min-p sampling's threshold, in [0, 1]. */
  public B minP(@Nullable Double minP) {
    parameters.minP(minP);
    return self();
  }

  /** Sets the repetition penalty, above 0 (1 is off). */
  public B repeatPenalty(@Nullable Double repeatPenalty) {
    parameters.repeatPenalty(repeatPenalty);
    return self();
  }

  /**
   * Sets default parameters as one object (LangChain4j's {@code ChatRequestParameters}, or
   * {@link ModservChatRequestParameters} for the seed, min-p and repetition penalty).
   */
  public B defaultRequestParameters(ChatRequestParameters defaultRequestParameters) {
    this.defaultRequestParameters = Objects.requireNonNull(defaultRequestParameters,
        "defaultRequestParameters");
    return self();
  }

  /**
   * Sets how long a whole generation may take, the wait for a free sequence included; past it,
   * it is cancelled and fails with {@code TIMEOUT}. No limit when unset.
   */
  public B timeout(Duration timeout) {
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    return self();
  }

  /** Sets the listeners told of each request, response and error (LangChain4j's). */
  public B listeners(List<ChatModelListener> listeners) {
    this.listeners = List.copyOf(listeners);
    return self();
  }

  /**
   * Returns the settings.
   *
   * @throws IllegalStateException without a model server or a model name
   */
  ChatSettings settings() {
    if (modelServer == null) {
      throw new IllegalStateException("modelServer is required: the ModelServer to call");
    }
    ModservChatRequestParameters.Builder merged = ModservChatRequestParameters.builder();
    if (defaultRequestParameters != null) {
      merged.overrideWith(defaultRequestParameters);
    }
    merged.overrideWith(parameters.build());
    String name = modelName != null ? modelName
        : defaultRequestParameters != null ? defaultRequestParameters.modelName() : null;
    if (name == null) {
      throw new IllegalStateException("modelName is required: the name of a model the server"
          + " has loaded or registered");
    }
    if (modelVersion != null) {
      name = ModelRef.of(ModelRef.parse(name).name(), modelVersion).toString();
    }
    return new ChatSettings(modelServer, merged.modelName(name).build(), timeout, listeners);
  }
}
