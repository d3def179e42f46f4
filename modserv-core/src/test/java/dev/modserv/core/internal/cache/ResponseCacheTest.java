package dev.modserv.core.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelProcessing;
import dev.modserv.core.ModelServer;
import dev.modserv.core.ServingMeter;
import dev.modserv.core.internal.Registry;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.FakeModel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The response cache on the request path, with the fake engine counting its runs. */
class ResponseCacheTest {
  private static final String MODEL = "m";
  private static final long MIB = 1 << 20;

  private static ModelServer server(FakeBackend backend, long cacheBytes) {
    ModelServer.Builder b = ModelServer.builder().backend(backend).discoverBackends(false);
    return cacheBytes < 0 ? b.build() : b.responseCacheBytes(cacheBytes).build();
  }

  private static void load(ModelServer server, long version, double offset, boolean cached)
      throws Exception {
    if (version == 1) {
      server.registry().configure(MODEL, ModelConfig.builder().responseCache(cached)
          .warmup(false).versionPolicy(dev.modserv.core.VersionPolicy.all()).build());
    }
    server.registry().load(MODEL, version, ModelSource.of(Path.of("m.fake"))
        .withOption("offset", Double.toString(offset))).get(10, TimeUnit.SECONDS);
  }

  private static InferenceRequest request(String ref, float x, String... outputs) {
    return InferenceRequest.builder(ref).input("x", Tensor.of(new float[] {x, x, x, x}, 1, 4))
        .outputs(outputs).build();
  }

  private static int runs(FakeBackend backend) {
    return backend.loaded().stream().mapToInt(FakeModel::runCalls).sum();
  }

  @Test
  void isOffForAModelThatDoesNotTurnItOnAndForEveryModelWithABoundOfZero() throws Exception {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer defaults = server(backend, -1)) {
      assertThat(((Registry) defaults.registry()).responses().maxBytes())
          .isEqualTo(ModelServer.DEFAULT_RESPONSE_CACHE_BYTES);
      defaults.registry().load(MODEL, 1, ModelSource.of(Path.of("m.fake")))
          .get(10, TimeUnit.SECONDS);
      int warmUpRuns = runs(backend);
      defaults.infer(request(MODEL, 1));
      InferenceResult again = defaults.infer(request(MODEL, 1));
      assertThat(again.timings().cached()).isFalse();
      assertThat(runs(backend) - warmUpRuns).isEqualTo(2);
      assertThat(defaults.registry().config(MODEL).responseCache()).isFalse();
    }
    FakeBackend other = FakeBackend.create();
    try (ModelServer off = server(other, 0)) {
      load(off, 1, 0, true);
      off.infer(request(MODEL, 1));
      assertThat(off.infer(request(MODEL, 1)).timings().cached()).isFalse();
      assertThat(runs(other)).isEqualTo(2);
      assertThat(((Registry) off.registry()).responses().isOn()).isFalse();
    }
  }

  @Test
  void aHitSkipsQueueAndEngineAndIsMarkedInItsTimings() throws Exception {
    FakeBackend backend = FakeBackend.builder().cost(Duration.ofMillis(2)).build();
    try (ModelServer server = server(backend, MIB)) {
      load(server, 1, 0.5, true);
      InferenceResult first = server.infer(request(MODEL, 3));
      InferenceResult second = server.infer(request(MODEL, 3));
      assertThat(runs(backend)).isEqualTo(1);
      assertThat(first.timings().cached()).isFalse();
      assertThat(first.timings().inference()).isPositive();
      assertThat(second.timings().cached()).isTrue();
      assertThat(second.timings().queue()).isZero();
      assertThat(second.timings().inference()).isZero();
      assertThat(second.outputs()).isEqualTo(first.outputs());
      assertThat(second.requireOutput("y").toFloatArray()).containsOnly(6.5f);
      assertThat(second.version()).isEqualTo(1);
    }
  }

  @Test
  void aFailureIsNeverCached() throws Exception {
    AtomicBoolean fail = new AtomicBoolean(true);
    FakeBackend backend = FakeBackend.builder()
        .runFailure(inputs -> fail.getAndSet(false), () -> new IllegalStateException("injected"))
        .build();
    try (ModelServer server = server(backend, MIB)) {
      server.registry().configure(MODEL, ModelConfig.builder().responseCache(true)
          .warmup(false).build());
      server.registry().load(MODEL, 1, Path.of("m.fake")).get(10, TimeUnit.SECONDS);
      assertThatThrownBy(() -> server.infer(request(MODEL, 1))).hasMessageContaining("injected");
      InferenceResult retry = server.infer(request(MODEL, 1));
      assertThat(retry.timings().cached()).isFalse();
      assertThat(retry.requireOutput("y").toFloatArray()).containsOnly(2f);
      assertThat(runs(backend)).isEqualTo(2);
      assertThat(server.infer(request(MODEL, 1)).timings().cached()).isTrue();
      assertThat(runs(backend)).isEqualTo(2);
    }
  }

  @Test
  void aRequestThatWaitedForAnIdenticalOneThatFailedGetsItsFailureAndNothingIsKept()
      throws Exception {
    java.util.concurrent.CountDownLatch bothSent = new java.util.concurrent.CountDownLatch(1);
    AtomicBoolean fail = new AtomicBoolean(true);
    FakeBackend backend = FakeBackend.builder()
        .duringRun(inputs -> {
          try {
            bothSent.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        })
        .runFailure(inputs -> fail.getAndSet(false), () -> new IllegalStateException("injected"))
        .build();
    try (ModelServer server = server(backend, MIB)) {
      load(server, 1, 0, true);
      var first = server.inferAsync(request(MODEL, 1));
      var second = server.inferAsync(request(MODEL, 1));
      bothSent.countDown();
      for (var f : java.util.List.of(first, second)) {
        assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).cause()
            .isInstanceOf(dev.modserv.api.ModelServingException.class)
            .hasMessageContaining("injected");
      }
      assertThat(runs(backend)).isEqualTo(1);
      assertThat(server.infer(request(MODEL, 1)).timings().cached()).isFalse();
      assertThat(runs(backend)).isEqualTo(2);
    }
  }

  @Test
  void aCallerChangingWhatItWasGivenDoesNotChangeTheNextHit() throws Exception {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = server(backend, MIB)) {
      load(server, 1, 0, true);
      float[] mine = server.infer(request(MODEL, 2)).requireOutput("y").toFloatArray();
      java.util.Arrays.fill(mine, -1f);
      InferenceResult hit = server.infer(request(MODEL, 2));
      float[] theirs = hit.requireOutput("y").toFloatArray();
      java.util.Arrays.fill(theirs, -7f);
      assertThat(hit.requireOutput("y").floatBuffer().isReadOnly()).isTrue();
      InferenceResult next = server.infer(request(MODEL, 2));
      assertThat(next.timings().cached()).isTrue();
      assertThat(next.requireOutput("y").toFloatArray()).containsOnly(4f);
      assertThat(runs(backend)).isEqualTo(1);
    }
  }

  @Test
  void theKeyIsThePreprocessedRequestAndPostprocessingRunsOnAHitAsOnAFreshAnswer()
      throws Exception {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = server(backend, MIB)) {
      load(server, 1, 0, true);
      ModelProcessing halve = ModelProcessing.builder().scale(0.5).build();
      InferenceResult scaled = server.infer(request(MODEL, 4), halve);
      assertThat(scaled.requireOutput("y").toFloatArray()).containsOnly(4f);
      InferenceResult same = server.infer(request(MODEL, 2));
      assertThat(same.timings().cached()).as("2 is what 4 became after preprocessing").isTrue();
      assertThat(same.requireOutput("y").toFloatArray()).containsOnly(4f);
      InferenceResult argmax = server.infer(request(MODEL, 2),
          ModelProcessing.builder().argmax().build());
      assertThat(argmax.timings().cached()).isTrue();
      assertThat(argmax.requireOutput("y").dataType())
          .isNotEqualTo(same.requireOutput("y").dataType());
      assertThat(runs(backend)).isEqualTo(1);
    }
  }

  @Test
  void requestedOutputsAndInputsArePartOfTheKey() throws Exception {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = server(backend, MIB)) {
      load(server, 1, 0, true);
      server.infer(request(MODEL, 1));
      server.infer(request(MODEL, 1, "y"));
      server.infer(request(MODEL, 2));
      assertThat(runs(backend)).isEqualTo(3);
      assertThat(server.infer(request(MODEL, 1, "y")).timings().cached()).isTrue();
      assertThat(runs(backend)).isEqualTo(3);
    }
  }

  @Test
  void keysDifferInParametersOutputsShapesAndTypesAndIgnoreTheOrderTheyWereGivenIn() {
    Tensor row = Tensor.of(new float[] {1, 2, 3, 4}, 1, 4);
    InferenceRequest plain = InferenceRequest.builder(MODEL).input("x", row).build();
    ResponseKey key = ResponseKey.of(MODEL, 1, 1, plain);
    assertThat(ResponseKey.of(MODEL, 1, 1, InferenceRequest.builder(MODEL).input("x", row)
        .build())).isEqualTo(key).hasSameHashCodeAs(key);
    assertThat(ResponseKey.of(MODEL, 1, 1, InferenceRequest.builder(MODEL).input("x", row)
        .parameter("signature", "other").build())).isNotEqualTo(key);
    assertThat(ResponseKey.of(MODEL, 1, 1, InferenceRequest.builder(MODEL).input("x", row)
        .outputs("y").build())).isNotEqualTo(key);
    assertThat(ResponseKey.of(MODEL, 1, 1, InferenceRequest.builder(MODEL)
        .input("x", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)).build())).isNotEqualTo(key);
    assertThat(ResponseKey.of(MODEL, 1, 1, InferenceRequest.builder(MODEL)
        .input("x", Tensor.of(new int[] {1, 2, 3, 4}, 1, 4)).build())).isNotEqualTo(key);
    assertThat(ResponseKey.of(MODEL, 2, 1, plain)).isNotEqualTo(key);
    assertThat(ResponseKey.of(MODEL, 1, 2, plain)).isNotEqualTo(key);
    assertThat(ResponseKey.of("n", 1, 1, plain)).isNotEqualTo(key);
    Tensor other = Tensor.of(new String[] {"a"}, 1);
    assertThat(ResponseKey.of(MODEL, 1, 1, InferenceRequest.builder(MODEL).input("x", row)
        .input("s", other).parameter("a", "1").parameter("b", "2").outputs("y", "z").build()))
        .isEqualTo(ResponseKey.of(MODEL, 1, 1, InferenceRequest.builder(MODEL)
            .input("s", other).input("x", row).parameter("b", "2").parameter("a", "1")
            .outputs("z", "y").build()));
    // Length prefixes: moving a character from one string to the next is another key.
    assertThat(ResponseKey.of(MODEL, 1, 1, InferenceRequest.builder(MODEL)
        .input("s", Tensor.of(new String[] {"ab", "c"}, 2)).build()))
        .isNotEqualTo(ResponseKey.of(MODEL, 1, 1, InferenceRequest.builder(MODEL)
            .input("s", Tensor.of(new String[] {"a", "bc"}, 2)).build()));
  }

  @Test
  void aVersionLoadedAgainAndALabelMoveNeverServeAnotherLoadsAnswers() throws Exception {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = server(backend, MIB)) {
      load(server, 1, 1, true);
      load(server, 2, 2, true);
      server.registry().label(MODEL, "stable", 1);
      assertThat(server.infer(request("m:stable", 1)).requireOutput("y").toFloatArray())
          .containsOnly(3f);
      server.registry().label(MODEL, "stable", 2);
      InferenceResult moved = server.infer(request("m:stable", 1));
      assertThat(moved.version()).isEqualTo(2);
      assertThat(moved.requireOutput("y").toFloatArray()).containsOnly(4f);

      Registry registry = (Registry) server.registry();
      long before = registry.responses().weightedSize();
      server.registry().unload(MODEL, 1).get(10, TimeUnit.SECONDS);
      assertThat(registry.responses().weightedSize()).as("entries of the unloaded version")
          .isLessThan(before);
      server.registry().load(MODEL, 1, ModelSource.of(Path.of("m.fake"))
          .withOption("offset", "5")).get(10, TimeUnit.SECONDS);
      InferenceResult reloaded = server.infer(request("m:1", 1));
      assertThat(reloaded.timings().cached()).isFalse();
      assertThat(reloaded.requireOutput("y").toFloatArray()).containsOnly(7f);
    }
  }

  @Test
  void hitsMissesAndBytesAreCountedPerModel() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .meterRegistry(meters).responseCacheBytes(MIB).build()) {
      load(server, 1, 0, true);
      for (int i = 0; i < 3; i++) {
        server.infer(request(MODEL, 1));
      }
      server.infer(request(MODEL, 2));
      assertThat(meters.get(ServingMeter.CACHE_HITS.meterName()).tags("cache", "response",
          "model", MODEL).counter().count()).isEqualTo(2);
      assertThat(meters.get(ServingMeter.CACHE_MISSES.meterName()).tags("model", MODEL)
          .counter().count()).isEqualTo(2);
      assertThat(meters.get(ServingMeter.CACHE_EVICTIONS.meterName()).tags("model", MODEL)
          .counter().count()).isZero();
      assertThat(meters.get(ServingMeter.CACHE_SIZE.meterName()).tags("model", MODEL).gauge()
          .value()).isEqualTo(((Registry) server.registry()).responses().weightedSize())
          .isPositive();
    }
  }

  @Test
  void evictionsKeepTheCacheWithinItsBoundAndAreCounted() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    FakeBackend backend = FakeBackend.create();
    long bound = 4 * 1024;
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .meterRegistry(meters).responseCacheBytes(bound).build()) {
      load(server, 1, 0, true);
      for (int i = 0; i < 100; i++) {
        server.infer(request(MODEL, i));
      }
      ResponseCache responses = ((Registry) server.registry()).responses();
      assertThat(responses.weightedSize()).isPositive().isLessThanOrEqualTo(bound);
      assertThat(meters.get(ServingMeter.CACHE_EVICTIONS.meterName()).tags("model", MODEL)
          .counter().count()).isPositive();
    }
  }
}
