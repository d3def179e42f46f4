package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import dev.langchain4j.model.openai.OpenAiLanguageModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.modserv.api.ChatMessage;
import dev.modserv.api.GenerationRequest;
import dev.modserv.core.ModelServer;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.TinyLlama;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code modserv serve} as a separate process on generated GGUFs: a chat model in a repository
 * (its {@code model.yaml} sets every llama key), an embedding model, broken ones, and the chat
 * model again through {@code --model NAME=PATH}; driven by LangChain4j's OpenAI and Ollama
 * clients. The text equals {@link ModelServer#complete} in process with the same options and
 * seed.
 */
class ServeGgufTest {
  private static final ObjectMapper JSON = ServeProcess.JSON;
  /** The chat model's engine options: what its model.yaml says. */
  private static final Map<String, String> CHAT = Map.of("mode", "worker", "context-size", "1024",
      "parallel", "2", "threads", "2", "batch-size", "256", "gpu-layers", "0",
      "chat-template", "chatml", "seed", "3", "worker-jvm-options", "-Xss2m",
      "worker-start-seconds", "120");
  private static final Map<String, String> EMBED = Map.of("embedding", "true", "pooling", "last",
      "context-size", "256");
  private static final int TOKENS = 8;

  @TempDir static Path dir;
  static ServeProcess server;
  static Collection<String> output;
  static String base;
  static ModelServer inProcess;

  @BeforeAll
  static void start() throws Exception {
    Path repo = dir.resolve("repo");
    Path gguf = TinyLlama.builder().build().write(dir.resolve("tiny.gguf"));
    copy(gguf, repo.resolve("tiny/1/tiny.gguf"));
    StringBuilder yaml = new StringBuilder("engine-options:\n");
    CHAT.forEach((k, v) -> yaml.append("  ").append(k).append(": \"").append(v).append("\"\n"));
    Files.writeString(repo.resolve("tiny/model.yaml"), yaml);
    copy(gguf, repo.resolve("embed/1/embed.gguf"));
    Files.writeString(repo.resolve("embed/model.yaml"), "engine-options:\n  embedding: true\n"
        + "  pooling: last\n  context-size: 256\n");
    byte[] bytes = Files.readAllBytes(gguf);
    Files.createDirectories(repo.resolve("truncated/1"));
    Files.write(repo.resolve("truncated/1/t.gguf"), Arrays.copyOf(bytes, 200));
    Files.createDirectories(repo.resolve("wrongmagic/1"));
    byte[] wrong = bytes.clone();
    wrong[0] = 'X';
    Files.write(repo.resolve("wrongmagic/1/w.gguf"), wrong);
    Files.createDirectories(repo.resolve("unknownarch/1"));
    Files.write(repo.resolve("unknownarch/1/a.gguf"), withArchitecture(bytes, "qwert"));
    copy(gguf, repo.resolve("unknownkey/1/u.gguf"));
    Files.writeString(repo.resolve("unknownkey/model.yaml"), "engine-options:\n  contxt: 5\n");
    copy(gguf, repo.resolve("outofrange/1/o.gguf"));
    Files.writeString(repo.resolve("outofrange/model.yaml"),
        "engine-options:\n  context-size: 10\n");

    server = ServeProcess.start(dir, "--model-repository", repo.toString(),
        "--model", "direct=" + gguf, "--no-strict-readiness");
    output = server.output;
    base = server.base;
    inProcess = ModelServer.builder().build();
    inProcess.registry().load("tiny", 1, new ModelSource(gguf, CHAT)).join();
    inProcess.registry().load("embed", 1, new ModelSource(gguf, EMBED)).join();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (inProcess != null) {
      inProcess.close();
    }
  }

  private static void copy(Path from, Path to) throws Exception {
    Files.createDirectories(to.getParent());
    Files.copy(from, to);
  }

  /**
   * Returns the GGUF {@code bytes} with {@code general.architecture}'s value replaced by
   * {@code name}, which must be as long as the value it replaces.
   */
  static byte[] withArchitecture(byte[] bytes, String name) {
    byte[] key = "general.architecture".getBytes(StandardCharsets.US_ASCII);
    byte[] out = bytes.clone();
    for (int i = 0; i + key.length < out.length; i++) {
      if (Arrays.equals(out, i, i + key.length, key, 0, key.length)) {
        // key, then the value's type (u32) and length (u64), then its bytes
        int value = i + key.length + 4 + 8;
        long length = java.nio.ByteBuffer.wrap(out, value - 8, 8)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(length).isEqualTo(name.length());
        System.arraycopy(name.getBytes(StandardCharsets.US_ASCII), 0, out, value, name.length());
        return out;
      }
    }
    throw new AssertionError("no general.architecture");
  }

  private static String expectedChat() {
    return inProcess.complete(GenerationRequest.builder("tiny").messages(List.of(
        ChatMessage.user("hi"))).maxTokens(TOKENS).temperature(0).seed(3).build()).text();
  }

  @Test
  void chatOnEveryClientEqualsInProcessForTheRepositoryModelAndTheDirectOne() throws Exception {
    String expected = expectedChat();
    for (String model : List.of("tiny", "direct")) {
      ChatModel openAi = OpenAiChatModel.builder().baseUrl(base + "/v1").apiKey("unused")
          .modelName(model).temperature(0.0).seed(3).maxTokens(TOKENS).build();
      if (model.equals("tiny")) {
        // The direct model has the GGUF's own template and default options; only its
        // shape is checked.
        assertThat(openAi.chat(UserMessage.from("hi")).aiMessage().text()).isEqualTo(expected);
      } else {
        assertThat(openAi.chat(UserMessage.from("hi")).tokenUsage().outputTokenCount())
            .isEqualTo(TOKENS);
        continue;
      }
      ChatModel ollama = OllamaChatModel.builder().baseUrl(base).modelName(model)
          .temperature(0.0).seed(3).numPredict(TOKENS).build();
      assertThat(ollama.chat(UserMessage.from("hi")).aiMessage().text()).isEqualTo(expected);
      StreamingChatModel openAiStream = OpenAiStreamingChatModel.builder().baseUrl(base + "/v1")
          .apiKey("unused").modelName(model).temperature(0.0).seed(3).maxTokens(TOKENS).build();
      LlmChatTest.Streamed s = LlmChatTest.stream(openAiStream);
      assertThat(String.join("", s.partials())).isEqualTo(expected);
      StreamingChatModel ollamaStream = OllamaStreamingChatModel.builder().baseUrl(base)
          .modelName(model).temperature(0.0).seed(3).numPredict(TOKENS).build();
      assertThat(String.join("", LlmChatTest.stream(ollamaStream).partials()))
          .isEqualTo(expected);
    }
  }

  @Test
  void completionOnOpenAiAndTheManagementApiEqualsInProcess() throws Exception {
    String expected = inProcess.complete(GenerationRequest.builder("tiny").prompt("Once upon")
        .temperature(0).maxTokens(GenerationRequest.DEFAULT_MAX_TOKENS).build()).text();
    String got = OpenAiLanguageModel.builder().baseUrl(base + "/v1").apiKey("unused")
        .modelName("tiny").temperature(0.0).build().generate("Once upon").content();
    assertThat(got).isEqualTo(expected);

    String shortText = inProcess.complete(GenerationRequest.builder("tiny").prompt("Once upon")
        .temperature(0).maxTokens(TOKENS).build()).text();
    JsonNode managed = JSON.readTree(post("/models/tiny/inference",
        "{\"prompt\": \"Once upon\", \"max_tokens\": " + TOKENS + ", \"temperature\": 0}").body());
    assertThat(managed.get("text").asText()).isEqualTo(shortText);
    assertThat(managed.get("tokens_generated").asInt()).isEqualTo(TOKENS);
    assertThat(managed.has("latency_ms")).isTrue();
  }

  @Test
  void embeddingsOnOpenAiAndOllamaEqualInProcess() {
    List<String> texts = List.of("a cat", "stock prices fell");
    float[][] expected = inProcess.embed("embed", texts);
    List<TextSegment> segments = texts.stream().map(TextSegment::from).toList();
    List<Embedding> openAi = OpenAiEmbeddingModel.builder().baseUrl(base + "/v1")
        .apiKey("unused").modelName("embed").build().embedAll(segments).content();
    List<Embedding> ollama = OllamaEmbeddingModel.builder().baseUrl(base).modelName("embed")
        .build().embedAll(segments).content();
    for (int i = 0; i < texts.size(); i++) {
      assertThat(openAi.get(i).vector()).containsExactly(expected[i],
          org.assertj.core.data.Offset.offset(1e-5f));
      assertThat(ollama.get(i).vector()).containsExactly(expected[i],
          org.assertj.core.data.Offset.offset(1e-5f));
    }
  }

  @Test
  void brokenModelsAndBadKeysFailWithOneLineWhileTheOthersServe() throws Exception {
    JsonNode models = JSON.readTree(get("/api/models").body()).get("models");
    Map<String, JsonNode> byName = new java.util.HashMap<>();
    models.forEach(m -> byName.put(m.get("name").asText(), m.get("versions").get(0)));
    for (String ready : List.of("tiny", "embed", "direct")) {
      assertThat(byName.get(ready).get("state").asText()).as(ready).isEqualTo("READY");
      assertThat(byName.get(ready).get("warmed_up").asBoolean()).as(ready).isTrue();
      assertThat(byName.get(ready).get("warmup_ms").asLong()).as(ready).isGreaterThanOrEqualTo(0);
    }
    for (String failed : List.of("truncated", "wrongmagic", "unknownarch", "unknownkey",
        "outofrange")) {
      JsonNode v = byName.get(failed);
      assertThat(v.get("state").asText()).as(failed).isEqualTo("FAILED");
      assertThat(v.get("failure").asText()).as(failed).doesNotContain("\n").doesNotContain("\tat ");
    }
    assertThat(byName.get("unknownkey").get("failure").asText()).contains("'contxt'");
    String unknownArch = byName.get("unknownarch").get("failure").asText();
    assertThat(unknownArch).contains("unknown architecture 'qwert'");
    // The log says it on one line, the cause with the model's name, and no stack trace follows.
    List<String> lines = new ArrayList<>(output);
    int logged = indexOf(lines, l -> l.contains("unknownarch") && l.contains("'qwert'"));
    assertThat(logged).as(String.join("\n", lines)).isNotNegative();
    if (logged + 1 < lines.size()) {
      assertThat(lines.get(logged + 1)).doesNotStartWith("\tat ").doesNotStartWith("Caused by");
    }
    assertThat(byName.get("outofrange").get("failure").asText()).contains("'context-size'");
    assertThat(output).anyMatch(l -> l.contains("unknownkey") && l.contains("model.yaml")
        && l.contains("contxt"));
    // Every llama key of model.yaml reached the engine: the model's metadata shows them.
    String show = post("/api/show", "{\"model\": \"tiny\"}").body();
    assertThat(show).contains("chatml").contains("-Xss2m").contains("1024");
    // The startup summary says what each model is for, and what to try.
    assertThat(output).anyMatch(l -> l.contains("tiny v1 READY") && l.contains("[llama]")
        && l.contains("/v1/chat/completions"));
    assertThat(output).anyMatch(l -> l.contains("embed v1 READY")
        && l.contains("/v1/embeddings"));
    assertThat(output).anyMatch(l -> l.contains("try: curl") && l.contains("chat/completions"));
  }

  private static int indexOf(List<String> lines, java.util.function.Predicate<String> p) {
    for (int i = 0; i < lines.size(); i++) {
      if (p.test(lines.get(i))) {
        return i;
      }
    }
    return -1;
  }

  static HttpResponse<String> get(String path) throws Exception {
    return server.get(path);
  }

  static HttpResponse<String> post(String path, String body) throws Exception {
    return server.post(path, body);
  }
}
