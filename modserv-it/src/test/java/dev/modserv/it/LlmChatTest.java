package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import dev.modserv.api.Capability;
import dev.modserv.api.ChatMessage;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.http.HttpAdapter;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.TinyLlama;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Text generation over HTTP on a generated GGUF (random weights: the text is gibberish, so the
 * checks are structure, counts, and agreement with {@link ModelServer#complete} in process):
 * LangChain4j's OpenAI and Ollama chat clients, plain and streaming, used as their docs show; the
 * SSE and NDJSON framing byte for byte; a client that disconnects cancels its generation.
 */
class LlmChatTest {
  @TempDir static Path dir;
  static final ObjectMapper JSON = new ObjectMapper();
  /** One registry for the model server and the adapter: /metrics shows both. */
  static final PrometheusMeterRegistry METERS = new PrometheusMeterRegistry(
      PrometheusConfig.DEFAULT);
  static ModelServer server;
  static HttpAdapter http;
  static String base;

  @BeforeAll
  static void start() throws Exception {
    Path gguf = TinyLlama.builder().build().write(dir.resolve("tiny.gguf"));
    server = ModelServer.builder().meterRegistry(METERS).build();
    // One sequence: a generation that is not cancelled holds up the next one.
    server.registry().load("tiny", 1, new ModelSource(gguf, Map.of(
        "context-size", "4096", "parallel", "1", "threads", "2"))).join();
    server.registry().load("tiny-embed", 1, new ModelSource(gguf, Map.of(
        "embedding", "true", "context-size", "256"))).join();
    http = HttpAdapter.builder(server).port(0).host("127.0.0.1").meterRegistry(METERS).build();
    http.start();
    base = "http://127.0.0.1:" + http.port();
  }

  @AfterAll
  static void stop() {
    http.close();
    server.close();
  }

  /** What the clients below ask for, run in process. */
  static GenerationResult inProcess(int maxTokens) {
    return server.complete(GenerationRequest.builder("tiny").messages(List.of(ChatMessage.user(
        "hi"))).maxTokens(maxTokens).temperature(0).seed(3).build());
  }

  @Test
  void openAiChat() {
    ChatModel model = OpenAiChatModel.builder().baseUrl(base + "/v1").apiKey("unused")
        .modelName("tiny").temperature(0.0).seed(3).maxTokens(12).build();
    ChatResponse r = model.chat(UserMessage.from("hi"));
    GenerationResult expected = inProcess(12);
    assertThat(r.aiMessage().text()).isEqualTo(expected.text());
    assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
    assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(12);
    assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(expected.usage().promptTokens());
  }

  @Test
  void openAiStreamingChat() throws Exception {
    StreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(base + "/v1")
        .apiKey("unused").modelName("tiny").temperature(0.0).seed(3).maxTokens(12).build();
    Streamed s = stream(model);
    assertThat(s.partials.size()).isGreaterThan(1);
    assertThat(String.join("", s.partials)).isEqualTo(inProcess(12).text());
    assertThat(s.done.get(30, TimeUnit.SECONDS).aiMessage().text())
        .isEqualTo(inProcess(12).text());
  }

  @Test
  void ollamaChat() {
    ChatModel model = OllamaChatModel.builder().baseUrl(base).modelName("tiny")
        .temperature(0.0).seed(3).numPredict(12).build();
    ChatResponse r = model.chat(UserMessage.from("hi"));
    assertThat(r.aiMessage().text()).isEqualTo(inProcess(12).text());
    assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(12);
  }

  @Test
  void ollamaStreamingChat() throws Exception {
    StreamingChatModel model = OllamaStreamingChatModel.builder().baseUrl(base)
        .modelName("tiny").temperature(0.0).seed(3).numPredict(12).build();
    Streamed s = stream(model);
    assertThat(s.partials.size()).isGreaterThan(1);
    assertThat(String.join("", s.partials)).isEqualTo(inProcess(12).text());
    assertThat(s.done.get(30, TimeUnit.SECONDS).aiMessage().text())
        .isEqualTo(inProcess(12).text());
  }

  record Streamed(List<String> partials, CompletableFuture<ChatResponse> done) {}

  static Streamed stream(StreamingChatModel model) throws Exception {
    List<String> partials = new ArrayList<>();
    CompletableFuture<ChatResponse> done = new CompletableFuture<>();
    model.chat("hi", new StreamingChatResponseHandler() {
      @Override
      public void onPartialResponse(String partial) {
        partials.add(partial);
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
    done.get(30, TimeUnit.SECONDS);
    return new Streamed(partials, done);
  }

  static JsonNode get(String path) throws Exception {
    return JSON.readTree(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base
        + path)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString())
        .body());
  }

  static JsonNode named(JsonNode models, String name) {
    for (JsonNode m : models) {
      if (m.get("name").asText().equals(name)) {
        return m;
      }
    }
    throw new AssertionError("no " + name + " in " + models);
  }

  /** What the GGUF header says, on every listing; the weight is the file plus its KV cache. */
  @Test
  void ggufFactsAreListedAndTheWeightIsFilePlusKvCache() throws Exception {
    JsonNode tag = named(get("/api/tags").get("models"), "tiny");
    assertThat(tag.get("details").get("family").asText()).isEqualTo("llama");
    assertThat(tag.get("details").get("quantization_level").asText()).isEqualTo("F32");
    assertThat(tag.get("details").get("parameter_size").asText()).endsWith("K");
    // 2 layers x 4096 context x 4 KV heads x (16 + 16) x 2 bytes (f16), plus the file.
    long weight = java.nio.file.Files.size(dir.resolve("tiny.gguf")) + 2L * 4096 * 4 * 32 * 2;
    // /api/ps names the model as /api/tags does.
    JsonNode tinyPs = named(get("/api/ps").get("models"), "tiny");
    assertThat(tinyPs.get("size").asLong()).isEqualTo(weight);
    JsonNode info = JSON.readTree(post("/api/show", "{\"model\":\"tiny\"}").body())
        .get("model_info");
    assertThat(info.get("general.architecture").asText()).isEqualTo("llama");
    assertThat(info.get("llama.context_length").asLong()).isEqualTo(512);
    assertThat(info.get("llama.embedding_length").asLong()).isEqualTo(64);
    assertThat(info.get("general.parameter_count").asLong()).isPositive();
    JsonNode meta = get("/v1/models/tiny").get("meta");
    assertThat(meta.get("n_ctx_train").asLong()).isEqualTo(512);
    assertThat(meta.get("n_embd").asLong()).isEqualTo(64);
    assertThat(meta.get("quantization").asText()).isEqualTo("F32");
    assertThat(meta.get("chat_template").asBoolean()).isTrue();
    JsonNode properties = named(get("/api/models").get("models"), "tiny").get("versions").get(0)
        .get("properties");
    assertThat(properties.get("architecture").asText()).isEqualTo("llama");
    assertThat(properties.get("chat-template").asText()).isEqualTo("true");
  }

  /** Details real clients send: developer messages, think false, embeddings asked of a chat model. */
  @Test
  void developerRoleThinkAndEmbeddingsOfAChatModel() throws Exception {
    String chat = "{\"model\":\"tiny\",\"max_tokens\":3,\"temperature\":0,\"seed\":3,"
        + "\"messages\":[{\"role\":\"%s\",\"content\":\"be brief\"},"
        + "{\"role\":\"user\",\"content\":\"hi\"}]}";
    HttpResponse<String> developer = post("/v1/chat/completions", chat.formatted("developer"));
    assertThat(developer.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(developer.body()).get("choices").get(0).get("message")
        .get("content").asText()).isEqualTo(JSON.readTree(post("/v1/chat/completions",
            chat.formatted("system")).body()).get("choices").get(0).get("message")
        .get("content").asText());

    String ollama = "{\"model\":\"tiny\",\"stream\":false,\"options\":{\"num_predict\":2},"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"think\":%s}";
    assertThat(post("/api/chat", ollama.formatted("false")).statusCode()).isEqualTo(200);
    HttpResponse<String> think = post("/api/chat", ollama.formatted("true"));
    assertThat(think.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(think.body()).get("error").asText())
        .startsWith("think: true is not supported: this model has no thinking template");

    HttpResponse<String> embed = post("/v1/embeddings", "{\"model\":\"tiny\",\"input\":\"hi\"}");
    assertThat(embed.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(embed.body()).get("error").get("message").asText())
        .contains("model 'tiny' generates text and cannot embed");
  }

  /** Ollama's prompt-less generate loads a registered model, and with keep_alive 0 unloads it. */
  @Test
  void emptyGenerateLoadsAndKeepAliveZeroUnloads() throws Exception {
    server.registry().register("tiny-lazy", 1, new ModelSource(dir.resolve("tiny.gguf"),
        Map.of("context-size", "256", "threads", "1")));
    HttpResponse<String> load = post("/api/generate", "{\"model\":\"tiny-lazy\"}");
    assertThat(load.statusCode()).as(load.body()).isEqualTo(200);
    JsonNode loaded = JSON.readTree(load.body());
    assertThat(loaded.get("done_reason").asText()).isEqualTo("load");
    assertThat(loaded.get("response").asText()).isEmpty();
    assertThat(loaded.get("done").asBoolean()).isTrue();
    assertThat(get("/api/ps").toString()).contains("\"tiny-lazy\"");

    JsonNode unload = JSON.readTree(post("/api/generate",
        "{\"model\":\"tiny-lazy\",\"keep_alive\":0}").body());
    assertThat(unload.get("done_reason").asText()).isEqualTo("unload");
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (get("/api/ps").toString().contains("\"tiny-lazy\"") && System.nanoTime() < until) {
      Thread.sleep(50);
    }
    assertThat(get("/api/ps").toString()).doesNotContain("\"tiny-lazy\"");
  }

  static HttpResponse<String> post(String path, String body) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A generation past the model's default timeout: 504 at the deadline when not streamed; streamed,
   * the error event ends the stream (no finish, no {@code [DONE]}). The one sequence is free again
   * at once.
   */
  @Test
  void aGenerationPastItsDeadlineAnswers504AtTheDeadline() throws Exception {
    ModelConfig before = server.registry().config("tiny");
    server.registry().configure("tiny", ModelConfig.builder().batching(BatchingPolicy.builder()
        .defaultTimeout(Duration.ofMillis(250)).build()).build());
    String ask = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        + "\"max_tokens\":4000,\"temperature\":0";
    HttpResponse<String> whole;
    HttpResponse<String> streamed;
    long wholeMillis;
    try {
      long start = System.nanoTime();
      whole = post("/v1/chat/completions", ask + "}");
      wholeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      streamed = post("/v1/chat/completions", ask + ",\"stream\":true}");
    } finally {
      server.registry().configure("tiny", before);
    }
    assertThat(whole.statusCode()).isEqualTo(504);
    assertThat(JSON.readTree(whole.body()).get("error").get("code").asText())
        .isEqualTo("timeout");
    assertThat(wholeMillis).isBetween(240L, 1_000L);
    assertThat(streamed.statusCode()).isEqualTo(200);
    String[] events = streamed.body().split("\n\n");
    assertThat(events[events.length - 1]).startsWith("data: {\"error\":")
        .contains("\"code\":\"timeout\"");
    assertThat(streamed.body()).doesNotContain("[DONE]");
    assertThat(inProcess(3).finishReason()).isEqualTo(dev.modserv.api.FinishReason.LENGTH);
  }

  @Test
  void sseFramingIsOpenAisByteForByte() throws Exception {
    HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":5,\"temperature\":0,"
        + "\"seed\":3,\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).contains("text/event-stream");
    String body = r.body();
    assertThat(body).endsWith("\n\ndata: [DONE]\n\n");
    String[] events = body.substring(0, body.length() - "data: [DONE]\n\n".length())
        .split("\n\n", -1);
    assertThat(events[events.length - 1]).isEmpty(); // every event ends with a blank line
    List<JsonNode> chunks = new ArrayList<>();
    for (int i = 0; i < events.length - 1; i++) {
      assertThat(events[i]).startsWith("data: {").doesNotContain("\n");
      chunks.add(JSON.readTree(events[i].substring("data: ".length())));
    }
    JsonNode first = chunks.get(0);
    String id = first.get("id").asText();
    assertThat(id).startsWith("chatcmpl-");
    for (JsonNode c : chunks) {
      assertThat(c.get("id").asText()).isEqualTo(id);
      assertThat(c.get("object").asText()).isEqualTo("chat.completion.chunk");
      assertThat(c.get("created").asLong()).isEqualTo(first.get("created").asLong());
      assertThat(c.get("model").asText()).isEqualTo("tiny");
    }
    assertThat(first.get("choices").get(0).get("delta").toString())
        .isEqualTo("{\"role\":\"assistant\",\"content\":\"\"}");
    JsonNode finish = chunks.get(chunks.size() - 2);
    assertThat(finish.get("choices").get(0).get("delta").toString()).isEqualTo("{}");
    assertThat(finish.get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
    assertThat(finish.get("usage").isNull()).isTrue();
    JsonNode usage = chunks.get(chunks.size() - 1);
    assertThat(usage.get("choices").toString()).isEqualTo("[]");
    assertThat(usage.get("usage").get("completion_tokens").asInt()).isEqualTo(5);
    StringBuilder text = new StringBuilder();
    for (JsonNode c : chunks.subList(1, chunks.size() - 2)) {
      assertThat(c.get("choices").get(0).get("finish_reason").isNull()).isTrue();
      text.append(c.get("choices").get(0).get("delta").get("content").asText());
    }
    assertThat(text.toString()).isEqualTo(inProcess(5).text());
  }

  /**
   * Each HTTP chunk of a streamed answer holds whole SSE events, and the end (the finish event,
   * the usage and {@code [DONE]}) goes out in one chunk: one write per engine chunk, since every
   * write is a chunk and a system call the client waits for.
   */
  @Test
  void aStreamedAnswerWritesWholeEventsAndEndsInOneChunk() throws Exception {
    String body = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        + "\"max_tokens\":5,\"temperature\":0,\"seed\":3,\"stream\":true,"
        + "\"stream_options\":{\"include_usage\":true}}";
    List<String> chunks = new ArrayList<>();
    try (Socket socket = new Socket("127.0.0.1", http.port())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
          + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      assertThat(line(in)).isEqualTo("HTTP/1.1 200 OK");
      List<String> headers = new ArrayList<>();
      for (String h; !(h = line(in)).isEmpty(); ) {
        headers.add(h.toLowerCase(java.util.Locale.ROOT));
      }
      assertThat(headers).contains("transfer-encoding: chunked");
      for (int size; (size = Integer.parseInt(line(in), 16)) > 0; ) {
        chunks.add(new String(in.readNBytes(size), StandardCharsets.UTF_8));
        assertThat(line(in)).isEmpty();
      }
    }
    assertThat(chunks).isNotEmpty();
    for (String chunk : chunks) {
      assertThat(chunk).startsWith("data: ").endsWith("\n\n");
    }
    assertThat(chunks.get(0)).startsWith("data: {").contains("\"role\":\"assistant\"");
    String last = chunks.get(chunks.size() - 1);
    assertThat(last).contains("\"finish_reason\":\"length\"").contains("\"usage\":{")
        .endsWith("data: [DONE]\n\n");
  }

  /** Reads one CRLF-terminated line of ASCII. */
  private static String line(InputStream in) throws java.io.IOException {
    StringBuilder b = new StringBuilder();
    for (int c; (c = in.read()) != '\n'; ) {
      assertThat(c).as("the connection ended mid-line").isNotNegative();
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }

  @Test
  void ggufEmbeddingsReportTheirTokensAsUsage() throws Exception {
    List<String> texts = List.of("hi", "hello world, serve the model");
    InferenceResult direct = server.infer(InferenceRequest.builder("tiny-embed")
        .input(Capability.EMBEDDING_INPUT, Tensor.of(texts.toArray(String[]::new), 2)).build());
    long tokens = java.util.Arrays.stream(direct.output(Capability.EMBEDDING_TOKENS)
        .orElseThrow().toLongArray()).sum();
    assertThat(tokens).isGreaterThan(2);
    JsonNode openAi = JSON.readTree(post("/v1/embeddings", "{\"model\":\"tiny-embed\","
        + "\"input\":[\"hi\",\"hello world, serve the model\"]}").body());
    assertThat(openAi.get("data")).hasSize(2);
    assertThat(openAi.get("usage").get("prompt_tokens").asLong()).isEqualTo(tokens);
    assertThat(openAi.get("usage").get("total_tokens").asLong()).isEqualTo(tokens);
    JsonNode ollama = JSON.readTree(post("/api/embed", "{\"model\":\"tiny-embed\","
        + "\"input\":[\"hi\",\"hello world, serve the model\"]}").body());
    assertThat(ollama.get("prompt_eval_count").asLong()).isEqualTo(tokens);
  }

  @Test
  void ndjsonFramingIsOllamasLineForLine() throws Exception {
    HttpResponse<String> r = post("/api/generate", "{\"model\":\"tiny\",\"prompt\":\"hello\","
        + "\"options\":{\"temperature\":0,\"seed\":3,\"num_predict\":5}}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).contains("application/x-ndjson");
    assertThat(r.body()).endsWith("}\n");
    String[] lines = r.body().split("\n");
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < lines.length - 1; i++) {
      JsonNode line = JSON.readTree(lines[i]);
      assertThat(line.get("done").asBoolean()).isFalse();
      assertThat(line.get("model").asText()).isEqualTo("tiny");
      assertThat(line.get("created_at").asText()).endsWith("Z");
      text.append(line.get("response").asText());
    }
    JsonNode last = JSON.readTree(lines[lines.length - 1]);
    assertThat(last.get("done").asBoolean()).isTrue();
    assertThat(last.get("response").asText()).isEmpty();
    assertThat(last.get("done_reason").asText()).isEqualTo("length");
    assertThat(last.get("eval_count").asInt()).isEqualTo(5);
    assertThat(last.get("prompt_eval_count").asInt()).isPositive();
    for (String f : List.of("total_duration", "prompt_eval_duration", "eval_duration")) {
      assertThat(last.get(f).asLong()).as(f).isPositive();
    }
    GenerationResult expected = server.complete(GenerationRequest.builder("tiny").prompt("hello")
        .maxTokens(5).temperature(0).seed(3).build());
    assertThat(text.toString()).isEqualTo(expected.text());

    HttpResponse<String> whole = post("/api/generate", "{\"model\":\"tiny\",\"prompt\":\"hello\","
        + "\"stream\":false,\"options\":{\"temperature\":0,\"seed\":3,\"num_predict\":5}}");
    assertThat(JSON.readTree(whole.body()).get("response").asText()).isEqualTo(expected.text());
  }

  @Test
  void badRequestsAreRefusedBeforeGenerating() throws Exception {
    var n = post("/v1/chat/completions", "{\"model\":\"tiny\",\"n\":2,\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(n.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(n.body()).get("error").get("param").asText()).isEqualTo("n");
    var role = post("/api/chat", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"tool\","
        + "\"content\":\"x\"}]}");
    assertThat(role.statusCode()).isEqualTo(400);
    var ctx = post("/api/chat", "{\"model\":\"tiny\",\"options\":{\"num_ctx\":8192},"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(JSON.readTree(ctx.body()).get("error").asText()).startsWith("options.num_ctx:");
    var missing = post("/v1/chat/completions", "{\"model\":\"nope\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(missing.body()).get("error").get("code").asText())
        .isEqualTo("model_not_found");
  }

  @Test
  void aClientThatGoesAwayCancelsItsGeneration() throws Exception {
    double before = cancelled();
    String body = "{\"model\":\"tiny\",\"prompt\":\"hello\",\"options\":{\"num_predict\":3500}}";
    try (Socket socket = new Socket("127.0.0.1", http.port())) {
      OutputStream out = socket.getOutputStream();
      out.write(("POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + body.length() + "\r\n\r\n" + body)
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] head = new byte[512];
      assertThat(in.read(head)).isPositive(); // it is streaming
    }
    // Gone: the engine's sequence is freed, counted as cancelled, and the one sequence serves on.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (cancelled() == before && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(cancelled()).isEqualTo(before + 1);
    HttpResponse<String> next = post("/api/generate", "{\"model\":\"tiny\",\"prompt\":\"x\","
        + "\"stream\":false,\"options\":{\"num_predict\":3}}");
    assertThat(JSON.readTree(next.body()).get("eval_count").asInt()).isEqualTo(3);
  }

  @Test
  void managementInferenceGenerates() throws Exception {
    try (HttpAdapter mgmt = HttpAdapter.builder(server).port(0).host("127.0.0.1")
        .management(dir).build()) {
      mgmt.start();
      String url = "http://127.0.0.1:" + mgmt.port() + "/models/tiny/inference";
      String expected = server.complete(GenerationRequest.builder("tiny").prompt("hello")
          .maxTokens(6).temperature(0).seed(3).build()).text();

      HttpResponse<String> whole = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create(url)).POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"hello\","
              + "\"max_tokens\":6,\"temperature\":0,\"seed\":3}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(whole.statusCode()).as(whole.body()).isEqualTo(200);
      JsonNode w = JSON.readTree(whole.body());
      assertThat(w.get("text").asText()).isEqualTo(expected);
      assertThat(w.get("tokens_generated").asInt()).isEqualTo(6);
      assertThat(w.get("latency_ms").asDouble()).isPositive();

      HttpResponse<String> streamed = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create(url)).POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"hello\","
              + "\"max_tokens\":6,\"temperature\":0,\"seed\":3,\"stream\":true}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(streamed.headers().firstValue("content-type")).contains("text/event-stream");
      String[] events = streamed.body().split("\n\n");
      StringBuilder deltas = new StringBuilder();
      for (int i = 0; i < events.length - 1; i++) {
        deltas.append(JSON.readTree(events[i].substring("data: ".length())).get("text").asText());
      }
      JsonNode last = JSON.readTree(events[events.length - 1].substring("data: ".length()));
      assertThat(deltas.toString()).isEqualTo(expected);
      assertThat(last.get("text").asText()).isEqualTo(expected);
      assertThat(last.get("tokens_generated").asInt()).isEqualTo(6);
      assertThat(last.get("finish_reason").asText()).isEqualTo("length");
    }
  }

  @Test
  void generationMetricsReachTheMetricsRoute() throws Exception {
    post("/api/generate", "{\"model\":\"tiny\",\"prompt\":\"x\",\"stream\":false,"
        + "\"options\":{\"num_predict\":3}}");
    String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    assertThat(metrics).contains("modserv_generation_ttft_seconds_count{")
        .contains("modserv_generation_tpot_seconds_count{")
        .contains("modserv_generation_tokens_total{")
        .contains("modserv_generations_total{")
        .contains("modserv_http_requests_seconds_count{");
  }

  static double cancelled() {
    Counter c = METERS.find("modserv.generations").tag("finish_reason", "cancelled").counter();
    return c == null ? 0 : c.count();
  }
}
