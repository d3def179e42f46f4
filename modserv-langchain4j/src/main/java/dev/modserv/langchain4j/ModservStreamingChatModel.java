package dev.modserv.langchain4j;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.modserv.api.GenerationRequest;
import dev.modserv.langchain4j.internal.StreamingBridge;
import java.util.List;

/**
 * A LangChain4j {@link StreamingChatModel} answered by a generative model of an in-process {@link
 * dev.modserv.core.ModelServer}, token by token, as {@link ModservChatModel} answers it whole.
 *
 * <pre>{@code
 * StreamingChatModel chat = ModservStreamingChatModel.builder()
 *     .modelServer(server)
 *     .modelName("qwen")
 *     .build();
 * chat.chat("Tell a story", new StreamingChatResponseHandler() {
 *   public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
 *     show(partial.text());
 *     if (userPressedStop()) {
 *       context.streamingHandle().cancel();   // the generation stops in the engine
 *     }
 *   }
 *   public void onCompleteResponse(ChatResponse response) { ... }
 *   public void onError(Throwable error) { ... }
 * });
 * }</pre>
 *
 * <p>{@code chat} returns at once; the handler is called on a thread of the server's, one call at a
 * time: each text delta ({@code onPartialResponse}), then the whole response with its token usage
 * and finish reason ({@code onCompleteResponse}), or the failure ({@code onError}: a {@link
 * dev.modserv.api.ModelServingException} with its code, unsupported requests included).
 *
 * <h2>Stopping a stream</h2>
 * {@code context.streamingHandle().cancel()} in {@code onPartialResponse} cancels the generation
 * in the engine at once: its sequence is freed for the next request, the server counts it as
 * {@code cancelled} ({@code modserv.generations{finish_reason="cancelled"}}), and the handler
 * hears nothing more. A handler whose {@code onPartialResponse} throws stops the stream the same
 * way and receives the exception in {@code onError}.
 */
public final class ModservStreamingChatModel implements StreamingChatModel {
  private final ChatSettings settings;

  private ModservStreamingChatModel(Builder builder) {
    this.settings = builder.settings();
  }

  /** Returns a builder; {@code modelServer} and {@code modelName} are required. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
    GenerationRequest generation;
    try {
      generation = settings.generationRequest(request);
    } catch (RuntimeException e) {
      handler.onError(e);
      return;
    }
    StreamingBridge.deliver(settings.server().generate(generation), handler,
        ChatSettings.modelName(request));
  }

  @Override
  public ChatRequestParameters defaultRequestParameters() {
    return settings.defaults();
  }

  @Override
  public List<ChatModelListener> listeners() {
    return settings.listeners();
  }

  /** Builds a {@link ModservStreamingChatModel}. */
  public static final class Builder extends ChatModelBuilder<Builder> {
    private Builder() {}

    /**
     * Returns the model.
     *
     * @throws IllegalStateException without a model server or a model name
     */
    public ModservStreamingChatModel build() {
      return new ModservStreamingChatModel(this);
    }
  }
}
