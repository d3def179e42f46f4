package dev.modserv.langchain4j;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.modserv.api.GenerationResult;
import dev.modserv.langchain4j.internal.ChatMapping;
import java.util.List;

/**
 * A LangChain4j {@link ChatModel} answered by a generative model of an in-process {@link
 * dev.modserv.core.ModelServer}: the messages are rendered with the model's chat template and
 * generated through the server's generation queue, so its sequences, queue bound, timeouts,
 * versions and metrics apply.
 *
 * <pre>{@code
 * ChatModel chat = ModservChatModel.builder()
 *     .modelServer(server)
 *     .modelName("qwen")
 *     .temperature(0.0)
 *     .maxOutputTokens(128)
 *     .build();
 * String answer = chat.chat("Say hello");
 * }</pre>
 *
 * <p>The response carries the tokens used (prompt and completion, counted by the model's
 * tokenizer) and why generation ended ({@code STOP} at the end of sequence or a stop sequence,
 * {@code LENGTH} at the token limit). System, user and AI text messages are supported; tools, JSON
 * response formats, images and frequency or presence penalties are refused with a {@link
 * dev.modserv.api.ModelServingException} ({@code INVALID_INPUT}) naming the field. Failures of
 * the server (unknown model, full queue, timeout) are {@code ModelServingException}s with their
 * code.
 */
public final class ModservChatModel implements ChatModel {
  private final ChatSettings settings;

  private ModservChatModel(Builder builder) {
    this.settings = builder.settings();
  }

  /** Returns a builder; {@code modelServer} and {@code modelName} are required. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public ChatResponse doChat(ChatRequest request) {
    GenerationResult result = settings.server().complete(settings.generationRequest(request));
    return ChatMapping.chatResponse(ChatSettings.modelName(request), result.text(),
        result.finishReason(), result.usage());
  }

  @Override
  public ChatRequestParameters defaultRequestParameters() {
    return settings.defaults();
  }

  @Override
  public List<ChatModelListener> listeners() {
    return settings.listeners();
  }

  /** Builds a {@link ModservChatModel}. */
  public static final class Builder extends ChatModelBuilder<Builder> {
    private Builder() {}

    /**
     * Returns the model.
     *
     * @throws IllegalStateException without a model server or a model name
     */
    public ModservChatModel build() {
      return new ModservChatModel(this);
    }
  }
}
