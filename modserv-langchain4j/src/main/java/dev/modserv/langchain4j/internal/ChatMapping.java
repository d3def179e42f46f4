package dev.modserv.langchain4j.internal;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.ChatResponseMetadata;
import dev.langchain4j.model.output.TokenUsage;
import dev.modserv.api.ChatMessage;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Usage;
import dev.modserv.langchain4j.ModservChatRequestParameters;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Turns a LangChain4j {@link ChatRequest} into a modserv {@link GenerationRequest}, and a
 * generation's end into a {@link ChatResponse}. What modserv's generation cannot do (tools, JSON
 * response formats, images, OpenAI's frequency and presence penalties) is refused with {@code
 * INVALID_INPUT} naming it, rather than silently dropped.
 */
public final class ChatMapping {
  private ChatMapping() {}

  /**
   * Returns the generation request for {@code request}, whose parameters already hold the
   * model's defaults.
   *
   * @throws ModelServingException {@code INVALID_INPUT} naming what is not supported or not valid
   */
  public static GenerationRequest generationRequest(ChatRequest request,
      @Nullable Duration timeout) {
    ChatRequestParameters p = request.parameters();
    String model = p.modelName();
    if (model == null || model.isBlank()) {
      throw invalid("modelName: no model to chat with; set modelName on the model's builder or"
          + " the request's parameters");
    }
    refuseUnsupported(p);
    GenerationRequest.Builder b = GenerationRequest.builder(model).messages(messages(request));
    if (p.maxOutputTokens() != null) {
      b.maxTokens(p.maxOutputTokens());
    }
    if (p.temperature() != null) {
      b.temperature(p.temperature());
    }
    if (p.topP() != null) {
      b.topP(p.topP());
    }
    if (p.topK() != null) {
      b.topK(p.topK());
    }
    if (p.stopSequences() != null) {
      b.stop(p.stopSequences());
    }
    if (p instanceof ModservChatRequestParameters modserv) {
      if (modserv.seed() != null) {
        b.seed(modserv.seed());
      }
      if (modserv.minP() != null) {
        b.minP(modserv.minP());
      }
      if (modserv.repeatPenalty() != null) {
        b.repeatPenalty(modserv.repeatPenalty());
      }
    }
    if (timeout != null) {
      b.timeout(timeout);
    }
    return b.build();
  }

  private static void refuseUnsupported(ChatRequestParameters p) {
    if (p.toolSpecifications() != null && !p.toolSpecifications().isEmpty()) {
      throw invalid("toolSpecifications: modserv's LangChain4j chat models do not call tools;"
          + " send the request without tools");
    }
    if (p.toolChoice() == ToolChoice.REQUIRED) {
      throw invalid("toolChoice: REQUIRED needs tools, which modserv's LangChain4j chat models"
          + " do not call");
    }
    ResponseFormat format = p.responseFormat();
    if (format != null && format.type() != ResponseFormatType.TEXT) {
      throw invalid("responseFormat: only TEXT is supported by modserv's LangChain4j chat"
          + " models; for JSON output call ModelServer.generate with GenerationRequest.jsonSchema");
    }
    if (p.frequencyPenalty() != null) {
      throw invalid("frequencyPenalty is not supported; use ModservChatRequestParameters"
          + " repeatPenalty");
    }
    if (p.presencePenalty() != null) {
      throw invalid("presencePenalty is not supported; use ModservChatRequestParameters"
          + " repeatPenalty");
    }
  }

  /** Maps the messages: system, user and assistant text; anything else is refused. */
  static List<ChatMessage> messages(ChatRequest request) {
    List<ChatMessage> out = new ArrayList<>();
    int i = 0;
    for (dev.langchain4j.data.message.ChatMessage m : request.messages()) {
      String field = "messages[" + i++ + "]";
      if (m instanceof SystemMessage system) {
        out.add(ChatMessage.system(system.text()));
      } else if (m instanceof UserMessage user) {
        out.add(ChatMessage.user(userText(user, field)));
      } else if (m instanceof AiMessage ai) {
        if (ai.hasToolExecutionRequests()) {
          throw invalid(field + ": an AI message with tool execution requests; modserv's"
              + " LangChain4j chat models do not call tools");
        }
        if (ai.text() == null) {
          throw invalid(field + ": an AI message without text");
        }
        out.add(ChatMessage.assistant(ai.text()));
      } else {
        throw invalid(field + ": a " + m.type() + " message; modserv's LangChain4j chat models"
            + " take system, user and AI messages only (no tool results, no custom messages)");
      }
    }
    return out;
  }

  private static String userText(UserMessage user, String field) {
    if (user.hasSingleText()) {
      return user.singleText();
    }
    StringBuilder text = new StringBuilder();
    for (Content c : user.contents()) {
      if (!(c instanceof TextContent t)) {
        throw invalid(field + ": " + c.type() + " content; modserv's LangChain4j chat models"
            + " take text only");
      }
      text.append(text.isEmpty() ? "" : "\n").append(t.text());
    }
    return text.toString();
  }

  /** Returns the response for a generation that ended with {@code text}. */
  public static ChatResponse chatResponse(String modelName, String text, FinishReason reason,
      Usage usage) {
    return ChatResponse.builder()
        .aiMessage(AiMessage.from(text))
        .metadata(ChatResponseMetadata.builder()
            .modelName(modelName)
            .tokenUsage(new TokenUsage(usage.promptTokens(), usage.completionTokens()))
            .finishReason(finishReason(reason))
            .build())
        .build();
  }

  /** Maps a finish reason: stop and length as they are; a cancelled generation is OTHER. */
  static dev.langchain4j.model.output.FinishReason finishReason(FinishReason reason) {
    return switch (reason) {
      case STOP -> dev.langchain4j.model.output.FinishReason.STOP;
      case LENGTH -> dev.langchain4j.model.output.FinishReason.LENGTH;
      case CANCELLED, ERROR -> dev.langchain4j.model.output.FinishReason.OTHER;
    };
  }

  private static ModelServingException invalid(String message) {
    return new ModelServingException(ErrorCode.INVALID_INPUT, message);
  }
}
