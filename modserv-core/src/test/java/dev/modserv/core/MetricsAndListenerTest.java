package dev.modserv.core;

import static dev.modserv.core.ModelServerTest.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.testkit.FakeBackend;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

class MetricsAndListenerTest {
  private static final Path MODEL = Path.of("m.fake");

  @Test
  void micrometerMetersPerModelVersionAndOutcome() {
    MeterRegistry meters = new SimpleMeterRegistry();
    try (ModelServer server = ModelServer.builder().backend(FakeBackend.create())
        .discoverBackends(false).meterRegistry(meters).build()) {
      server.registry().load("m", 1, MODEL).join();
      assertThat(meters.get("modserv.models.loaded").gauge().value()).isEqualTo(1);
      assertThat(meters.get("modserv.model.load.duration").tag("model", "m")
          .tag("outcome", "success").timer().count()).isEqualTo(1);

      server.infer("m", row(1, 2, 3, 4));
      server.infer("m", row(1, 2, 3, 4));
      assertThatThrownBy(() -> server.infer("m", row(1, 2))).isInstanceOf(ModelServingException.class);

      assertThat(meters.get("modserv.requests").tags("model", "m", "version", "1", "outcome",
          "success").counter().count()).isEqualTo(2);
      assertThat(meters.get("modserv.requests").tags("model", "m", "outcome", "error").counter()
          .count()).isEqualTo(1);
      assertThat(meters.get("modserv.request.latency").tags("model", "m", "outcome", "success")
          .timer().count()).isEqualTo(2);
      assertThat(meters.get("modserv.queue.wait").tag("model", "m").timer().count()).isEqualTo(2);
      assertThat(meters.get("modserv.batch.size").tag("model", "m").summary().totalAmount())
          .isEqualTo(2);
      assertThat(meters.get("modserv.inference.latency").tag("model", "m").timer().count())
          .isEqualTo(2);
      assertThat(meters.get("modserv.queue.depth").tag("model", "m").gauge().value()).isZero();

      assertThat(meters.get("modserv.errors").tags("model", "m", "code", "INVALID_INPUT")
          .counter().count()).isEqualTo(1);
      assertThat(meters.get("modserv.model.loaded").tags("model", "m", "version", "1").gauge()
          .value()).isEqualTo(1);
      assertThat(meters.get("modserv.model.state").tags("model", "m", "state", "ready").gauge()
          .value()).isEqualTo(1);
      assertThat(meters.get("modserv.requests.active").tags("model", "m").gauge().value())
          .isZero();

      server.registry().unload("m", 1).join();
      assertThat(meters.get("modserv.models.loaded").gauge().value()).isZero();
      assertThat(meters.get("modserv.model.loaded").tags("model", "m", "version", "1").gauge()
          .value()).as("an unloaded version reads 0").isZero();
      assertThat(meters.get("modserv.model.state").tags("model", "m", "state", "unloaded")
          .gauge().value()).isEqualTo(1);

      server.registry().load("m", 1, MODEL).join();
      server.infer("m", row(1, 2, 3, 4));
      assertThat(meters.get("modserv.requests").tags("model", "m", "version", "1", "outcome",
          "success").counter().count()).as("a version loaded again counts on").isEqualTo(3);
      assertThat(meters.get("modserv.model.loaded").tags("model", "m", "version", "1").gauge()
          .value()).isEqualTo(1);
    }
  }

  @Test
  void aThrowingMetricsImplementationNeverBreaksServing() {
    ServingMetrics throwing = new ServingMetrics() {
      @Override
      public VersionMetrics version(String model, long version) {
        return new VersionMetrics() {
          @Override
          public void request(Outcome outcome, long latencyNanos) {
            throw new IllegalStateException("metrics down");
          }

          @Override
          public void queueWait(long nanos) {
            throw new IllegalStateException("metrics down");
          }

          @Override
          public void batch(int rows, long engineNanos) {
            throw new IllegalStateException("metrics down");
          }

          @Override
          public void queueDepth(IntSupplier depth) {
            throw new IllegalStateException("metrics down");
          }

          @Override
          public void close() {
            throw new IllegalStateException("metrics down");
          }
        };
      }

      @Override
      public void loadFinished(String model, long version, long nanos, boolean success) {
        throw new IllegalStateException("metrics down");
      }

      @Override
      public void loadedModels(IntSupplier count) {
        throw new IllegalStateException("metrics down");
      }
    };
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .metrics(throwing).build()) {
      server.registry().load("m", 1, MODEL).join();
      assertThat(server.infer("m", row(1, 1, 1, 1)).requireOutput("y").toFloatArray())
          .containsExactly(2, 2, 2, 2);
      assertThatThrownBy(() -> server.infer("m", row(1)))
          .satisfies(e -> assertThat(ModelServingException.codeOf(e)).contains(ErrorCode.INVALID_INPUT));
      server.registry().unload("m", 1).join();
    }
    assertThat(backend.loaded().get(0).closeCalls()).isEqualTo(1);
  }

  @Test
  void listenerHearsTheLifecycleInOrderAndAThrowingListenerIsIgnored() {
    List<String> events = new CopyOnWriteArrayList<>();
    ModelServerListener recorder = new ModelServerListener() {
      @Override
      public void loadStarted(String model, long version) {
        events.add("loadStarted " + model + ":" + version);
      }

      @Override
      public void warmupFinished(String model, long version, Duration took) {
        events.add("warmupFinished " + model + ":" + version);
      }

      @Override
      public void ready(String model, long version, Duration loadTook) {
        events.add("ready " + model + ":" + version);
      }

      @Override
      public void loadFailed(String model, long version, Throwable cause) {
        events.add("loadFailed " + model + ":" + version);
      }

      @Override
      public void drainStarted(String model, long version) {
        events.add("drainStarted " + model + ":" + version);
      }

      @Override
      public void unloaded(String model, long version) {
        events.add("unloaded " + model + ":" + version);
      }

      @Override
      public void labelMoved(String model, String label, long version) {
        events.add("labelMoved " + model + ":" + label + "=" + version);
      }
    };
    ModelServerListener throwing = new ModelServerListener() {
      @Override
      public void ready(String model, long version, Duration loadTook) {
        throw new IllegalStateException("listener bug");
      }
    };
    FakeBackend backend = FakeBackend.builder()
        .loadFailure(s -> s.fileName().startsWith("bad"), () -> new IllegalStateException("x"))
        .build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .listener(throwing).listener(recorder).build()) {
      server.registry().load("m", 1, MODEL).join();
      server.registry().label("m", "stable", 1);
      server.registry().unload("m", 1).join();
      assertThatThrownBy(() -> server.registry().load("m", 2, Path.of("bad.fake")).join())
          .isInstanceOf(Exception.class);
    }
    assertThat(events).containsExactly(
        "loadStarted m:1", "warmupFinished m:1", "ready m:1", "labelMoved m:stable=1",
        "drainStarted m:1", "unloaded m:1", "loadStarted m:2", "loadFailed m:2");
  }

  @Test
  void buildersCheckEachSettingAndNameTheBadValue() {
    ModelServer.Builder b = ModelServer.builder();
    assertThatThrownBy(() -> b.defaultTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("defaultTimeout must be positive: PT0S");
    b.defaultTimeout(Duration.ofSeconds(1));
    assertThatThrownBy(() -> b.defaultTimeout(Duration.ofSeconds(2)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("defaultTimeout was already set to PT1S");
    b.backend(FakeBackend.create());
    assertThatThrownBy(() -> b.backend(FakeBackend.create()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a backend named 'fake' was already added");
    b.meterRegistry(new SimpleMeterRegistry());
    assertThatThrownBy(() -> b.metrics(ServingMetrics.noop()))
        .isInstanceOf(IllegalStateException.class).hasMessage("metrics were already set");
    assertThatThrownBy(() -> b.excludeBackend(" "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ModelConfig.builder().drainGrace(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("drainGrace must not be negative: PT-1S");
    assertThatThrownBy(() -> ModelConfig.builder().warmup(false)
        .warmupSample(java.util.Map.of("x", dev.modserv.api.Tensor.scalar(1f))).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("warm-up samples are declared but warm-up is off");
    assertThatThrownBy(() -> VersionPolicy.latest(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("latest(count) needs count >= 1: 0");
    assertThatThrownBy(() -> VersionPolicy.specific(0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void defaultTimeoutAppliesToRequestsWithoutOne() {
    FakeBackend backend = FakeBackend.builder().cost(Duration.ofMillis(200)).build();
    java.util.concurrent.ExecutorService single =
        java.util.concurrent.Executors.newSingleThreadExecutor();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .executor(single).defaultTimeout(Duration.ofMillis(50)).build()) {
      server.registry().configure("m", ModelConfig.builder().warmup(false).build());
      server.registry().load("m", 1, MODEL).join();
      // The first request's own timeout outlasts the 200 ms run; the second has none, so the
      // 50 ms default applies to it, whether it waits in the queue or runs in the same batch.
      var first = server.inferAsync(dev.modserv.api.InferenceRequest.builder("m")
          .inputs(row(1, 1, 1, 1)).timeout(Duration.ofSeconds(10)).build());
      var second = server.inferAsync(dev.modserv.api.InferenceRequest.builder("m")
          .inputs(row(1, 1, 1, 1)).build());
      ModelServerTest.assertFailed(second, ErrorCode.TIMEOUT, "timeout of 50 ms");
      assertThat(first.join().version()).isEqualTo(1);
    } finally {
      single.shutdownNow();
    }
  }
}
