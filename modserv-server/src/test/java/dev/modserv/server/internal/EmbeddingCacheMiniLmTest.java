package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.Capability;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.onnx.AllMiniLmL6V2;
import dev.modserv.onnx.OnnxBackend;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedding cache on the default (float) all-MiniLM-L6-v2: {@code cached} has the cache on,
 * {@code plain} (the same files) has it off and gives the uncached answers to compare with.
 */
class EmbeddingCacheMiniLmTest {
  /** The documented tolerance (docs/embedding-cache.md): per element, and as a cosine. */
  private static final double TOLERANCE = 1e-5;

  @TempDir static Path tmp;
  private static Path dir;

  private RecordingBackend engine;
  private SimpleMeterRegistry meters;
  private ModelServer server;

  @BeforeAll
  static void extract() {
    dir = AllMiniLmL6V2.extract(tmp);
  }

  @BeforeEach
  void start() {
    engine = new RecordingBackend(new OnnxBackend());
    meters = new SimpleMeterRegistry();
    server = ModelServer.builder().discoverBackends(false).backend(engine).meterRegistry(meters)
        .build();
    server.registry().configure("cached", ModelConfig.builder().warmup(false)
        .embeddingCache(true).build());
    server.registry().configure("plain", ModelConfig.builder().warmup(false).build());
    server.registry().load("cached", 1, dir).join();
    server.registry().load("plain", 1, dir).join();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static List<String> texts(String prefix, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(prefix + " number " + i + (i % 3 == 0 ? ", a somewhat longer sentence than most"
          : ""));
    }
    return out;
  }

  private InferenceResult infer(String model, List<String> texts) {
    return server.infer(InferenceRequest.builder(model)
        .input(Capability.EMBEDDING_INPUT, Tensor.of(texts.toArray(String[]::new), texts.size()))
        .build());
  }

  private double meter(String name) {
    return meters.get(name).tag("cache", "embedding").tag("model", "cached").counter().count();
  }

  @Test
  void aRepeatedTextIsServedFromTheCache() {
    List<String> texts = List.of("the cat sat on the mat", "hello");
    float[][] first = server.embed("cached", texts);
    int runs = engine.runs.size();
    float[][] again = server.embed("cached", texts);
    assertThat(engine.runs).as("engine calls").hasSize(runs);
    assertThat(again).isDeepEqualTo(first);
    assertThat(meter("modserv.cache.hits")).isEqualTo(2);
    assertThat(meter("modserv.cache.misses")).isEqualTo(2);
    assertThat(meters.get("modserv.cache.size").tag("cache", "embedding").tag("model", "cached").gauge().value())
        .isPositive();
  }

  @Test
  void aMixedRequestRunsOnlyTheUnseenTextsAndAnswersInOrderAsUncached() {
    List<String> seen = texts("seen", 30);
    server.embed("cached", seen);
    List<String> mixed = new ArrayList<>(seen);
    mixed.add(7, "an unseen text in the middle");
    mixed.add("another unseen one, at the end of the request");
    engine.runs.clear();

    InferenceResult cached = infer("cached", mixed);
    assertThat(engine.runs).as("the engine ran only the two unseen texts")
        .containsExactly(List.of("an unseen text in the middle",
            "another unseen one, at the end of the request"));
    InferenceResult plain = infer("plain", mixed);

    float[][] c = ModelServer.vectors(cached, "cached", 32);
    float[][] p = ModelServer.vectors(plain, "plain", 32);
    for (int i = 0; i < 32; i++) {
      assertThat(DefaultModelBatchInvarianceTest.cosine(c[i], p[i])).as("text %d", i)
          .isGreaterThanOrEqualTo(1 - TOLERANCE);
      for (int d = 0; d < c[i].length; d++) {
        assertThat((double) c[i][d]).as("text %d, element %d", i, d)
            .isCloseTo(p[i][d], org.assertj.core.data.Offset.offset(TOLERANCE));
      }
    }
    assertThat(cached.requireOutput(Capability.EMBEDDING_TOKENS).toLongArray())
        .as("usage counts").containsExactly(
            plain.requireOutput(Capability.EMBEDDING_TOKENS).toLongArray());
  }

  @Test
  void anUnloadedVersionsTextsLeaveTheCache() {
    server.embed("cached", List.of("hello", "world"));
    var size = meters.get("modserv.cache.size").tag("cache", "embedding").tag("model", "cached")
        .gauge();
    assertThat(size.value()).isPositive();
    server.registry().unload("cached", 1).join();
    assertThat(size.value()).as("bytes held for the model after its only version closed")
        .isZero();
  }

  @Test
  void aNewVersionOrAReloadOfTheSameNumberDoesNotSeeTheOldEntries() {
    server.embed("cached", List.of("hello"));
    server.registry().load("cached", 2, dir).join();
    server.registry().unload("cached", 1).join();
    engine.runs.clear();
    server.embed("cached", List.of("hello"));
    assertThat(engine.runs).as("version 2 ran it").containsExactly(List.of("hello"));

    server.registry().unload("cached", 2).join();
    server.registry().load("cached", 2, dir).join();
    engine.runs.clear();
    server.embed("cached", List.of("hello"));
    assertThat(engine.runs).as("version 2 reloaded ran it").containsExactly(List.of("hello"));
    server.embed("cached", List.of("hello"));
    assertThat(engine.runs).as("and cached it").hasSize(1);
  }

  @Test
  void identicalConcurrentMissesRunTheModelOnce() throws Exception {
    // A long queue delay holds the first request's run while the others arrive.
    server.registry().configure("slow", ModelConfig.builder().warmup(false).embeddingCache(true)
        .batching(BatchingPolicy.builder().preferredBatchSizes(32)
            .maxQueueDelay(Duration.ofMillis(500)).build()).build());
    server.registry().load("slow", 1, dir).join();
    List<CompletableFuture<InferenceResult>> calls = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      calls.add(server.inferAsync(InferenceRequest.builder("slow")
          .input(Capability.EMBEDDING_INPUT, Tensor.of(new String[] {"same text"}, 1)).build()));
    }
    float[] first = null;
    for (CompletableFuture<InferenceResult> call : calls) {
      float[] v = ModelServer.vectors(call.get(1, TimeUnit.MINUTES), "slow", 1)[0];
      if (first == null) {
        first = v;
      }
      assertThat(v).containsExactly(first);
    }
    assertThat(engine.rowsOfRunsWith("same text")).containsExactly(1);
  }

  @Test
  void aFailureIsNotCached() {
    engine.failNext.set(true);
    assertThatThrownBy(() -> server.embed("cached", List.of("fails once")));
    float[][] ok = server.embed("cached", List.of("fails once"));
    assertThat(engine.rowsOfRunsWith("fails once")).containsExactly(1, 1);
    assertThat(ok[0]).hasSize(384);
  }
}
