package dev.modserv.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.modserv.api.Capability;
import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The int8 all-MiniLM-L6-v2 (copied by the build into target/) as a text-embedding model. */
class EmbeddingModelTest {
  private static LoadedModel minilm;

  @BeforeAll
  static void load() throws Exception {
    // The folder holds the .onnx and its tokenizer json: the tokenizer is found by itself.
    minilm = new OnnxBackend().load(ModelSource.of(TestModels.MINILM_JAR)
        .withOption("intra-op-threads", "1"));
  }

  @AfterAll
  static void close() throws Exception {
    minilm.close();
  }

  static float[][] embed(String... texts) throws Exception {
    Tensor out = minilm.run(
        Map.of(Capability.EMBEDDING_INPUT, Tensor.of(texts, texts.length)), Set.of())
        .get(Capability.EMBEDDING_OUTPUT);
    assertThat(out.shape()).containsExactly(texts.length, 384);
    float[] flat = out.toFloatArray();
    float[][] rows = new float[texts.length][384];
    for (int i = 0; i < texts.length; i++) {
      System.arraycopy(flat, i * 384, rows[i], 0, 384);
    }
    return rows;
  }

  static double cosine(float[] a, float[] b) {
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

  @Test
  void concurrentRunsGiveWhatRunsOneAfterAnotherGive() throws Exception {
    // The server runs up to concurrentRuns() batches at once: tokenizer and session are shared.
    assertThat(minilm.concurrentRuns()).isEqualTo(Runtime.getRuntime().availableProcessors());
    String[][] batches = {{"hello world"}, {"a man is eating food", "a cat sleeps"},
        {"the quick brown fox jumps over the lazy dog"}, {"embeddings", "of", "short texts"}};
    float[][][] alone = new float[batches.length][][];
    for (int i = 0; i < batches.length; i++) {
      alone[i] = embed(batches[i]);
    }
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(batches.length);
    try {
      for (int round = 0; round < 5; round++) {
        java.util.List<java.util.concurrent.Future<float[][]>> together =
            new java.util.ArrayList<>();
        for (String[] batch : batches) {
          together.add(pool.submit(() -> embed(batch)));
        }
        for (int i = 0; i < batches.length; i++) {
          float[][] got = together.get(i).get(60, java.util.concurrent.TimeUnit.SECONDS);
          for (int r = 0; r < got.length; r++) {
            assertThat(cosine(got[r], alone[i][r])).as("batch %d row %d", i, r)
                .isGreaterThan(0.9999);
          }
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void metadataIsTheEmbeddingConvention() {
    assertThat(minilm.metadata().inputs())
        .containsExactly(TensorSpec.of(Capability.EMBEDDING_INPUT, DataType.STRING, -1));
    assertThat(minilm.metadata().outputs())
        .containsExactly(TensorSpec.of(Capability.EMBEDDING_OUTPUT, DataType.FP32, -1, 384),
            TensorSpec.of(Capability.EMBEDDING_TOKENS, DataType.INT64, -1));
    assertThat(minilm.metadata().capabilities()).containsExactlyInAnyOrder(
        Capability.TENSOR, Capability.BATCHABLE, Capability.EMBEDDING);
    assertThat(minilm.metadata().properties()).containsEntry("pooling", "mean")
        .containsEntry("max-length", "128");
  }

  @Test
  void tokenCountsLeavePaddingOut() throws Exception {
    // BERT word pieces: [CLS] hello world [SEP]; [CLS] a man is eating food . [SEP]
    Map<String, Tensor> out = minilm.run(Map.of(Capability.EMBEDDING_INPUT,
            Tensor.of(new String[] {"hello world", "A man is eating food."}, 2)),
        Set.of(Capability.EMBEDDING_TOKENS));
    assertThat(out.keySet()).containsExactly(Capability.EMBEDDING_TOKENS); // only what was asked
    assertThat(out.get(Capability.EMBEDDING_TOKENS).toLongArray()).containsExactly(4, 8);
  }

  @Test
  void vectorsAreUnitLengthAndMeaningful() throws Exception {
    float[][] v = embed("A man is eating food.", "A man is eating a piece of bread.",
        "The girl is carrying a baby.");
    for (float[] row : v) {
      assertThat(cosine(row, row)).isCloseTo(1.0, within(1e-5));
      double norm = 0;
      for (float x : row) {
        norm += x * x;
      }
      assertThat(Math.sqrt(norm)).isCloseTo(1.0, within(1e-5));
    }
    assertThat(cosine(v[0], v[1])).isGreaterThan(cosine(v[0], v[2]) + 0.3);
  }

  /**
   * The int8 model quantizes its activations per tensor, with a scale taken over the whole batch:
   * a text's vector depends a little on the texts batched with it (measured: cosine 0.979 for a
   * short text padded next to a long one, 0.991 for the long one). The same batch gives the same
   * vectors, bit for bit.
   */
  @Test
  void aTextInAPaddedBatchGetsNearlyItsLoneVector() throws Exception {
    String shortText = "Hi.";
    String longText = "The quick brown fox jumps over the lazy dog, again and again, all day long.";
    float[] alone = embed(shortText)[0];
    float[][] batch = embed(longText, shortText);
    assertThat(cosine(alone, batch[1])).isGreaterThan(0.97);
    assertThat(cosine(embed(longText)[0], batch[0])).isGreaterThan(0.98);
    assertThat(embed(shortText, shortText)[1]).containsExactly(alone);
  }

  @Test
  void longTextsAreTruncatedNotRefused() throws Exception {
    String longText = "word ".repeat(2000);
    assertThat(embed(longText)[0]).hasSize(384);
  }

  @Test
  void anEmptyBatchIsInvalidInput() {
    assertThatThrownBy(() -> minilm.run(
        Map.of(Capability.EMBEDDING_INPUT, Tensor.of(new String[0], 0)), Set.of()))
        .isInstanceOf(ModelServingException.class)
        .hasMessageContaining("input 'text': expected at least 1 row, got 0");
  }

  @Test
  void badInputsAreInvalidInput() {
    assertThatThrownBy(() -> minilm.run(Map.of("txt", Tensor.of(new String[] {"a"}, 1)), Set.of()))
        .isInstanceOfSatisfying(ModelServingException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT))
        .hasMessageContaining("unknown input 'txt'; the model takes [text]");
    assertThatThrownBy(() -> minilm.run(
        Map.of(Capability.EMBEDDING_INPUT, Tensor.of(new float[] {1}, 1)), Set.of()))
        .hasMessageContaining("input 'text'").hasMessageContaining("expected STRING")
        .hasMessageContaining("got FP32");
  }

  @Test
  void aTokenizerOptionMakesAFileAnEmbeddingModel(@TempDir Path dir) throws Exception {
    Path model = Files.copy(TestModels.MINILM_JAR.resolve("all-minilm-l6-v2-q.onnx"),
        dir.resolve("m.onnx"));
    ModelSource plain = ModelSource.of(model);
    OnnxBackend backend = new OnnxBackend();
    try (LoadedModel tensors = backend.load(plain)) {
      assertThat(tensors.metadata().has(Capability.EMBEDDING)).isFalse();
      assertThat(tensors.metadata().input("input_ids")).isPresent();
    }
    ModelSource withTokenizer = plain.withOption("tokenizer",
        TestModels.MINILM_JAR.resolve("all-minilm-l6-v2-q-tokenizer.json").toString())
        .withOption("max-length", "16");
    try (LoadedModel embedding = backend.load(withTokenizer)) {
      assertThat(embedding.metadata().has(Capability.EMBEDDING)).isTrue();
      assertThat(embedding.metadata().properties()).containsEntry("max-length", "16");
    }
  }

  @Test
  void theTokenizerLibraryStaysOffline() {
    assertThat(System.getProperty("ai.djl.offline")).isEqualTo("true");
    assertThat(System.getProperty("OPT_OUT_TRACKING")).isEqualTo("true");
    assertThat(System.getProperty("DJL_CACHE_DIR")).endsWith("modserv-djl");
    assertThat(Path.of(System.getProperty("user.home"), ".djl.ai", "tokenizers")).doesNotExist();
  }
}
