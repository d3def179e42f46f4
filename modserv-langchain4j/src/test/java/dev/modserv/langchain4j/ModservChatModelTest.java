package dev.modserv.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.langchain4j.model.output.FinishReason;
import dev.modserv.api.ChatMessage;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelServer;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.TinyLlama;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ModservChatModel} and {@link ModservStreamingChatModel} on a generated GGUF (random
 * weights: gibberish, so the checks are agreement with {@link ModelServer#complete} given the same
 * messages and seed, counts and finish reasons), and a handler that stops its stream.
 */
class ModservChatModelTest {
  @TempDir static Path dir;
  static final SimpleMeterRegistry METERS = new SimpleMeterRegistry();
  static ModelServer server;

  @BeforeAll
  static void start() throws Exception {
    Path gguf = TinyLlama.builder().build().write(dir.resolve("tiny.gguf"));
    server = ModelServer.builder().meterRegistry(METERS).build();
    // One sequence: a generation that is not cancelled holds up the next one.
    server.registry().load("tiny", 1, new ModelSource(gguf, Map.of(
        "context-size", "4096", "parallel", "1", "threads", "2"))).join();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static ModservChatModel.Builder chat() {
    return ModservChatModel.builder().modelServer(server).modelName("tiny").temperature(0.0)
        .seed(3L).maxOutputTokens(12);
  }

  static ModservStreamingChatModel.Builder streaming() {
    return ModservStreamingChatModel.builder().modelServer(server).modelName("tiny")
        .temperature(0.0).seed(3L).maxOutputTokens(12);
  }

  /** The same chat, run in process. */
  static GenerationResult complete(int maxTokens, List<String> stop, ChatMessage... messages) {
    return server.complete(GenerationRequest.builder("tiny").messages(List.of(messages))
        .maxTokens(maxTokens).temperature(0).seed(3).stop(stop).build());
  }

  @Test
  void chatIsInProcessComplete() {
    ChatResponse response = chat().build().chat(UserMessage.from("hi"));
    GenerationResult expected = complete(12, List.of(), ChatMessage.user("hi"));
    assertThat(response.aiMessage().text()).isEqualTo(expected.text());
    assertThat(response.finishReason()).isEqualTo(FinishReason.LENGTH);
    assertThat(response.tokenUsage().outputTokenCount()).isEqualTo(12);
    assertThat(response.tokenUsage().inputTokenCount())
        .isEqualTo(expected.usage().promptTokens());
    assertThat(response.modelName()).isEqualTo("tiny");
  }

  @Test
  void theSeedReachesTheSampler() throws Exception {
    // Sampling, not greedy: only the same seed gives the same text.
    GenerationResult expected = server.complete(GenerationRequest.builder("tiny")
        .messages(List.of(ChatMessage.user("hi"))).maxTokens(24).temperature(1.5).seed(11)
        .build());
    GenerationResult otherSeed = server.complete(GenerationRequest.builder("tiny")
        .messages(List.of(ChatMessage.user("hi"))).maxTokens(24).temperature(1.5).seed(12)
        .build());
    assertThat(otherSeed.text()).isNotEqualTo(expected.text());
    assertThat(chat().temperature(1.5).seed(11L).maxOutputTokens(24).build().chat("hi"))
        .isEqualTo(expected.text());
    Streamed s = stream(streaming().temperature(1.5).seed(11L).maxOutputTokens(24).build(), "hi",
        handle -> {});
    assertThat(s.done.get(60, TimeUnit.SECONDS).aiMessage().text()).isEqualTo(expected.text());
  }

  @Test
  void everyRoleIsMapped() {
    ChatResponse response = chat().build().chat(SystemMessage.from("be brief"),
        UserMessage.from("hi"), AiMessage.from("hello"),
        UserMessage.from(TextContent.from("and"), TextContent.from("again")));
    assertThat(response.aiMessage().text()).isEqualTo(complete(12, List.of(),
        ChatMessage.system("be brief"), ChatMessage.user("hi"), ChatMessage.assistant("hello"),
        ChatMessage.user("and\nagain")).text());
  }

  @Test
  void aStopSequenceEndsWithStop() {
    // Random weights give bytes that are not UTF-8 too: stop at the first printable ASCII one.
    String whole = complete(12, List.of(), ChatMessage.user("hi")).text();
    String stop = whole.chars().filter(c -> c > ' ' && c <= '~').limit(1)
        .mapToObj(Character::toString).findFirst().orElseThrow();
    GenerationResult expected = complete(12, List.of(stop), ChatMessage.user("hi"));
    assertThat(expected.finishReason()).isEqualTo(dev.modserv.api.FinishReason.STOP);
    ChatResponse response = chat().stopSequences(List.of(stop)).build()
        .chat(UserMessage.from("hi"));
    assertThat(response.aiMessage().text()).isEqualTo(expected.text())
        .isEqualTo(whole.substring(0, whole.indexOf(stop)));
    assertThat(response.finishReason()).isEqualTo(FinishReason.STOP);
    assertThat(response.tokenUsage().outputTokenCount())
        .isEqualTo(expected.usage().completionTokens()).isLessThan(12);
  }

  @Test
  void requestParametersWinOverTheModelsDefaults() {
    ChatResponse response = chat().build().chat(ChatRequest.builder()
        .messages(UserMessage.from("hi"))
        .parameters(ModservChatRequestParameters.builder().maxOutputTokens(5).build())
        .build());
    assertThat(response.aiMessage().text())
        .isEqualTo(complete(5, List.of(), ChatMessage.user("hi")).text());
    assertThat(response.tokenUsage().outputTokenCount()).isEqualTo(5);
  }

  @Test
  void streamingIsInProcessCompleteToo() throws Exception {
    Streamed s = stream(streaming().build(), "hi", handle -> {});
    ChatResponse response = s.done.get(60, TimeUnit.SECONDS);
    GenerationResult expected = complete(12, List.of(), ChatMessage.user("hi"));
    assertThat(s.partials.size()).isGreaterThan(1);
    assertThat(String.join("", s.partials)).isEqualTo(expected.text());
    assertThat(response.aiMessage().text()).isEqualTo(expected.text());
    assertThat(response.finishReason()).isEqualTo(FinishReason.LENGTH);
    assertThat(response.tokenUsage().outputTokenCount()).isEqualTo(12);
    assertThat(response.tokenUsage().inputTokenCount())
        .isEqualTo(expected.usage().promptTokens());
  }

  @Test
  void aHandlerThatStopsTheStreamCancelsTheGeneration() throws Exception {
    double before = generations("cancelled");
    List<String> shown = new CopyOnWriteArrayList<>();
    List<StreamingHandle> handles = new CopyOnWriteArrayList<>();
    CompletableFuture<Object> ended = new CompletableFuture<>();
    StreamingChatResponseHandler docsHandler = new StreamingChatResponseHandler() {
      void show(String text) {
        shown.add(text);
      }

      boolean userPressedStop() {
        return true;
      }

      // DOCS-STOP-START
      @Override
      public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
        show(partial.text());
        if (userPressedStop()) {
          context.streamingHandle().cancel();
        }
      }
      // DOCS-STOP-END

      @Override
      public void onCompleteResponse(ChatResponse response) {
        ended.complete(response);
      }

      @Override
      public void onError(Throwable error) {
        ended.complete(error);
      }
    };
    // Far more tokens than the test waits for: only a cancel ends it soon.
    streaming().maxOutputTokens(3500).build().chat("hi", new StreamingChatResponseHandler() {
      @Override
      public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
        handles.add(context.streamingHandle());
        docsHandler.onPartialResponse(partial, context);
      }

      @Override
      public void onCompleteResponse(ChatResponse response) {
        docsHandler.onCompleteResponse(response);
      }

      @Override
      public void onError(Throwable error) {
        docsHandler.onError(error);
      }
    });
    awaitGenerations("cancelled", before + 1);
    assertThat(shown).hasSize(1);
    assertThat(handles).singleElement().satisfies(h -> assertThat(h.isCancelled()).isTrue());
    assertThat(ended).isNotDone();
    // The one sequence is free again.
    assertThat(chat().maxOutputTokens(3).build().chat("x")).isNotEmpty();
  }

  @Test
  void aHandlerThatThrowsStopsTheStreamAndHearsWhy() throws Exception {
    double before = generations("cancelled");
    IllegalStateException failure = new IllegalStateException("the consumer went away");
    Streamed s = stream(streaming().maxOutputTokens(3500).build(), "hi", handle -> {
      throw failure;
    });
    assertThatThrownBy(() -> s.done.get(60, TimeUnit.SECONDS)).hasCause(failure);
    awaitGenerations("cancelled", before + 1);
    assertThat(s.partials).hasSize(1);
  }

  @Test
  void generationsAreCountedByTheServer() {
    double before = generations("length");
    chat().maxOutputTokens(2).build().chat("x");
    assertThat(generations("length")).isEqualTo(before + 1);
  }

  @Test
  void aVersionIsPinnedByName() {
    assertThat(chat().modelVersion(1).build().chat(UserMessage.from("hi")).aiMessage().text())
        .isEqualTo(complete(12, List.of(), ChatMessage.user("hi")).text());
    assertThat(chat().modelVersion(1).build().defaultRequestParameters().modelName())
        .isEqualTo("tiny:1");
    assertCode(() -> chat().modelVersion(2).build().chat("hi"), ErrorCode.VERSION_NOT_FOUND);
    assertCode(() -> chat().modelName("nope").build().chat("hi"), ErrorCode.MODEL_NOT_FOUND);
  }

  @Test
  void whatGenerationCannotDoIsRefusedByName() {
    ChatModel model = chat().build();
    ToolSpecification tool = ToolSpecification.builder().name("weather").build();
    assertInvalid(() -> model.chat(ChatRequest.builder().messages(UserMessage.from("hi"))
        .toolSpecifications(tool).build()), "toolSpecifications");
    assertInvalid(() -> model.chat(UserMessage.from(TextContent.from("look"),
        ImageContent.from("https://example.invalid/a.png"))), "messages[0]", "IMAGE");
    assertInvalid(() -> model.chat(UserMessage.from("hi"),
        ToolExecutionResultMessage.from("id", "weather", "sunny")), "messages[1]");
    assertInvalid(() -> model.chat(ChatRequest.builder().messages(UserMessage.from("hi"))
        .frequencyPenalty(0.5).build()), "frequencyPenalty");
    assertInvalid(() -> chat().temperature(-1.0).build().chat("hi"), "temperature");
  }

  @Test
  void streamingReportsRefusalsToTheHandler() throws Exception {
    Streamed s = stream(streaming().modelName("nope").build(), "hi", handle -> {});
    assertThatThrownBy(() -> s.done.get(60, TimeUnit.SECONDS)).cause()
        .isInstanceOfSatisfying(ModelServingException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.MODEL_NOT_FOUND));
    ToolSpecification tool = ToolSpecification.builder().name("weather").build();
    CompletableFuture<Throwable> error = new CompletableFuture<>();
    streaming().build().chat(ChatRequest.builder().messages(UserMessage.from("hi"))
        .toolSpecifications(tool).build(), new StreamingChatResponseHandler() {
          @Override
          public void onCompleteResponse(ChatResponse response) {
            error.completeExceptionally(new AssertionError("completed"));
          }

          @Override
          public void onError(Throwable e) {
            error.complete(e);
          }
        });
    assertThat(error.get(10, TimeUnit.SECONDS)).isInstanceOfSatisfying(
        ModelServingException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT);
          assertThat(e.getMessage()).contains("toolSpecifications");
        });
  }

  @Test
  void theBuilderNamesWhatIsMissing() {
    assertThatThrownBy(() -> ModservChatModel.builder().modelName("tiny").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("modelServer");
    assertThatThrownBy(() -> ModservStreamingChatModel.builder().modelServer(server).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("modelName");
  }

  record Streamed(List<String> partials, CompletableFuture<ChatResponse> done) {}

  /** Streams {@code message}; {@code onPartial} gets each partial's handle after it is recorded. */
  static Streamed stream(StreamingChatModel model, String message,
      Consumer<StreamingHandle> onPartial) {
    List<String> partials = new CopyOnWriteArrayList<>();
    CompletableFuture<ChatResponse> done = new CompletableFuture<>();
    model.chat(message, new StreamingChatResponseHandler() {
      @Override
      public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
        partials.add(partial.text());
        onPartial.accept(context.streamingHandle());
      }

      @Override
      public void onCompleteResponse(ChatResponse response) {
        done.complete(response);
      }

      @Override
      public void onError(Throwable error) {
        done.completeExceptionally(error);
      }
    });
    return new Streamed(partials, done);
  }

  static double generations(String finishReason) {
    Counter c = METERS.find("modserv.generations").tag("model", "tiny")
        .tag("finish_reason", finishReason).counter();
    return c == null ? 0 : c.count();
  }

  static void awaitGenerations(String finishReason, double count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (generations(finishReason) < count && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(generations(finishReason)).isEqualTo(count);
  }

  static void assertCode(Runnable call, ErrorCode code) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(ModelServingException.class,
        e -> assertThat(e.code()).isEqualTo(code));
  }

  static void assertInvalid(Runnable call, String... parts) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(ModelServingException.class, e -> {
      assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT);
      assertThat(e.getMessage()).contains(parts);
    });
  }
}
