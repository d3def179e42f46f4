package dev.modserv.langchain4j;

import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.modserv.api.GenerationRequest;
import dev.modserv.core.ModelServer;
import dev.modserv.langchain4j.internal.ChatMapping;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** What a chat model is built with: the server, the default parameters, the timeout, listeners. */
record ChatSettings(ModelServer server, ModservChatRequestParameters defaults,
    @Nullable Duration timeout, List<ChatModelListener> listeners) {

  /** Returns the generation request for {@code request} (the defaults already applied). */
  GenerationRequest generationRequest(ChatRequest request) {
    return ChatMapping.generationRequest(request, timeout);
  }

  /** Returns the model name a response reports: the request's, which the defaults fill. */
  static String modelName(ChatRequest request) {
    String name = request.parameters().modelName();
    return name != null ? name : "";
  }
}
