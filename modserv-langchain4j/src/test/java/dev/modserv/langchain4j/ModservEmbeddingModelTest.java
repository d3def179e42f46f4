package dev.modserv.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.core.VersionPolicy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link ModservEmbeddingModel} on the int8 all-MiniLM-L6-v2 (copied by the build out of its
 * LangChain4j Maven artifact into target/minilm), loaded twice as versions 1 and 2.
 */
class ModservEmbeddingModelTest {
  static final Path MINILM = Path.of(System.getProperty("modserv.minilm"));
  static final List<String> TEXTS = List.of("A man is eating food.",
      "A man is eating a piece of bread.", "The girl is carrying a baby.");
  static final SimpleMeterRegistry METERS = new SimpleMeterRegistry();
  static ModelServer server;

  @BeforeAll
  static void start() {
    server = ModelServer.builder().meterRegistry(METERS).build();
    server.registry().configure("minilm", ModelConfig.builder()
        .versionPolicy(VersionPolicy.all()).build());
    server.registry().load("minilm", 1, MINILM).join();
    server.registry().load("minilm", 2, MINILM).join();
    // Four rows go at once (a preferred size); fewer wait up to ten seconds for company.
    server.registry().configure("batched", ModelConfig.builder().batching(BatchingPolicy.builder()
        .maxBatchSize(8).preferredBatchSizes(4, 8).maxQueueDelay(Duration.ofSeconds(10)).build())
        .build());
    server.registry().load("batched", 1, MINILM).join();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static EmbeddingModel model() {
    return ModservEmbeddingModel.builder().modelServer(server).modelName("minilm").build();
  }

  @Test
  void vectorsAreModelServerEmbeds() {
    Response<List<Embedding>> response = model().embedAll(
        TEXTS.stream().map(TextSegment::from).toList());
    float[][] expected = server.embed("minilm", TEXTS);
    assertThat(response.content()).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(response.content().get(i).vector()).as(TEXTS.get(i)).containsExactly(expected[i]);
    }
    assertThat(model().embed(TEXTS.get(0)).content().vector())
        .containsExactly(server.embed("minilm", List.of(TEXTS.get(0)))[0]);
  }

  @Test
  void tokenUsageIsTheModelsCount() {
    long[] counts = server.infer(InferenceRequest.builder("minilm")
        .input(Capability.EMBEDDING_INPUT, Tensor.of(TEXTS.toArray(String[]::new), 3)).build())
        .requireOutput(Capability.EMBEDDING_TOKENS).toLongArray();
    Response<List<Embedding>> response = model().embedAll(
        TEXTS.stream().map(TextSegment::from).toList());
    assertThat(response.tokenUsage().inputTokenCount())
        .isEqualTo((int) (counts[0] + counts[1] + counts[2])).isGreaterThan(3 * 2);
  }

  @Test
  void dimensionAndNameComeFromTheServedModel() {
    assertThat(model().dimension()).isEqualTo(384);
    assertThat(model().modelName()).isEqualTo("minilm");
    assertThat(ModservEmbeddingModel.builder().modelServer(server).modelName("minilm")
        .modelVersion(1).build().modelName()).isEqualTo("minilm:1");
  }

  @Test
  void callsTakeTheServersPathToTheVersionAskedFor() {
    double v1 = requests("1");
    double v2 = requests("2");
    ModservEmbeddingModel.builder().modelServer(server).modelName("minilm").modelVersion(1)
        .build().embed("pinned");
    assertThat(requests("1")).isEqualTo(v1 + 1);
    assertThat(requests("2")).isEqualTo(v2);
    model().embed("latest");
    assertThat(requests("2")).isEqualTo(v2 + 1);
  }

  @Test
  void concurrentCallsShareOneEngineRun() throws Exception {
    EmbeddingModel batched = ModservEmbeddingModel.builder().modelServer(server)
        .modelName("batched").build();
    DistributionSummary batches = METERS.get("modserv.batch.size").tag("model", "batched")
        .summary();
    long runs = batches.count();
    double rows = batches.totalAmount();
    try (ExecutorService callers = Executors.newFixedThreadPool(4)) {
      List<Future<Embedding>> calls = new ArrayList<>();
      for (String text : List.of("one", "two", "three", "four")) {
        calls.add(callers.submit(() -> batched.embed(text).content()));
      }
      for (Future<Embedding> call : calls) {
        assertThat(call.get(30, TimeUnit.SECONDS).dimension()).isEqualTo(384);
      }
    }
    assertThat(batches.count()).isEqualTo(runs + 1);
    assertThat(batches.totalAmount()).isEqualTo(rows + 4);
  }

  static double requests(String version) {
    Counter c = METERS.find("modserv.requests").tag("model", "minilm").tag("version", version)
        .tag("outcome", "success").counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void anUnknownModelIsTheServersError() {
    EmbeddingModel missing = ModservEmbeddingModel.builder().modelServer(server)
        .modelName("nope").build();
    assertThatThrownBy(() -> missing.embed("x")).isInstanceOfSatisfying(
        ModelServingException.class,
        e -> assertThat(e.code()).isEqualTo(ErrorCode.MODEL_NOT_FOUND));
    EmbeddingModel absentVersion = ModservEmbeddingModel.builder().modelServer(server)
        .modelName("minilm").modelVersion(9).build();
    assertThatThrownBy(() -> absentVersion.embed("x")).isInstanceOfSatisfying(
        ModelServingException.class,
        e -> assertThat(e.code()).isEqualTo(ErrorCode.VERSION_NOT_FOUND));
  }

  @Test
  void theBuilderNamesWhatIsMissing() {
    assertThatThrownBy(() -> ModservEmbeddingModel.builder().modelName("minilm").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("modelServer");
    assertThatThrownBy(() -> ModservEmbeddingModel.builder().modelServer(server).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("modelName");
  }
}
