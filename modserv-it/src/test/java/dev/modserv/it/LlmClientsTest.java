package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.modserv.core.ModelServer;
import dev.modserv.http.HttpAdapter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * LangChain4j's OpenAI and Ollama clients, used as their documentation shows, against the REST
 * adapter serving the int8 all-MiniLM-L6-v2 through ONNX Runtime: the vectors that come back are
 * the ones {@link ModelServer#embed} gives in process.
 */
class LlmClientsTest {
  private static final Path MINILM = Path.of(System.getProperty("modserv.minilm"));
  private static final String KEY = "sk-test-key";

  static ModelServer server;
  static HttpAdapter withKey;
  static HttpAdapter open;

  @BeforeAll
  static void start() {
    server = ModelServer.builder().build();
    server.registry().load("minilm", 1, MINILM).join();
    withKey = HttpAdapter.builder(server).port(0).host("127.0.0.1").apiKey(KEY).build();
    withKey.start();
    open = HttpAdapter.builder(server).port(0).host("127.0.0.1").build();
    open.start();
  }

  @AfterAll
  static void stop() {
    withKey.close();
    open.close();
    server.close();
  }

  private static final List<String> TEXTS = List.of("A man is eating food.",
      "A man is eating a piece of bread.", "The girl is carrying a baby.");

  @Test
  void openAiEmbeddings() {
    EmbeddingModel model = OpenAiEmbeddingModel.builder()
        .baseUrl("http://127.0.0.1:" + withKey.port() + "/v1")
        .apiKey(KEY)
        .modelName("minilm")
        .build();
    Response<List<Embedding>> response = model.embedAll(
        TEXTS.stream().map(TextSegment::from).toList());
    assertSameAsInProcess(response.content());
    // [CLS] + words and the full stop + [SEP]: 8, 11 and 9 tokens.
    assertThat(response.tokenUsage().inputTokenCount()).isEqualTo(28);
  }

  @Test
  void openAiWithAWrongKeyIsRefused() {
    EmbeddingModel model = OpenAiEmbeddingModel.builder()
        .baseUrl("http://127.0.0.1:" + withKey.port() + "/v1")
        .apiKey("sk-wrong")
        .modelName("minilm")
        .maxRetries(0)
        .build();
    assertThatThrownBy(() -> model.embed("hello")).hasMessageContaining("API key");
  }

  @Test
  void openAiUnknownModelIsModelNotFound() {
    EmbeddingModel model = OpenAiEmbeddingModel.builder()
        .baseUrl("http://127.0.0.1:" + withKey.port() + "/v1")
        .apiKey(KEY)
        .modelName("nope")
        .maxRetries(0)
        .build();
    assertThatThrownBy(() -> model.embed("hello")).hasMessageContaining("model_not_found");
  }

  @Test
  void ollamaEmbeddings() {
    EmbeddingModel model = OllamaEmbeddingModel.builder()
        .baseUrl("http://127.0.0.1:" + open.port())
        .modelName("minilm")
        .build();
    Response<List<Embedding>> response = model.embedAll(
        TEXTS.stream().map(TextSegment::from).toList());
    assertSameAsInProcess(response.content());
  }

  private static void assertSameAsInProcess(List<Embedding> embeddings) {
    float[][] expected = server.embed("minilm", TEXTS);
    assertThat(embeddings).hasSize(TEXTS.size());
    for (int i = 0; i < TEXTS.size(); i++) {
      float[] got = embeddings.get(i).vector();
      assertThat(got).hasSize(384);
      // Same batch, same engine: the same numbers, up to JSON's decimal round trip.
      assertThat(got).containsExactly(expected[i], org.assertj.core.data.Offset.offset(1e-6f));
    }
  }
}
