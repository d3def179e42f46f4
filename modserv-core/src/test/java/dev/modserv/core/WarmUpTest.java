package dev.modserv.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.Tensor;
import dev.modserv.testkit.FakeBackend;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Warm-up runs its samples as many times as the model's configuration says. */
class WarmUpTest {

  @Test
  void warmUpRunsEverySampleTheConfiguredNumberOfTimes() {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().configure("three", ModelConfig.builder().warmupIterations(3).build());
      server.registry().configure("twoSamples", ModelConfig.builder().warmupIterations(2)
          .warmupSample(Map.of("x", Tensor.of(new float[] {1, 2, 3, 4}, 1, 4)))
          .warmupSample(Map.of("x", Tensor.of(new float[8], 2, 4)))
          .build());
      server.registry().load("default", 1, Path.of("default.fake")).join();
      server.registry().load("three", 1, Path.of("three.fake")).join();
      server.registry().load("twoSamples", 1, Path.of("two.fake")).join();
      assertThat(backend.loaded().get(0).runCalls()).isEqualTo(1);
      assertThat(backend.loaded().get(1).runCalls()).isEqualTo(3);
      assertThat(backend.loaded().get(2).runCalls()).isEqualTo(4);
      assertThat(server.registry().status("three", 1).orElseThrow().warmedUp()).isTrue();
    }
  }

  @Test
  void atLeastOneIteration() {
    assertThat(ModelConfig.defaults().warmupIterations()).isEqualTo(1);
    assertThatThrownBy(() -> ModelConfig.builder().warmupIterations(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("warmupIterations must be >= 1");
  }
}
