package dev.modserv.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.Capability;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.api.Usage;
import dev.modserv.spi.Backend;
import dev.modserv.spi.GenerationHandle;
import dev.modserv.spi.GenerationSink;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.FakeBackend;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
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

  /**
   * A generative model warms up with a short generation per iteration, and its warm-up time is in
   * its status; with warm-up off, it does not generate.
   */
  @Test
  void aGenerativeModelGeneratesOnceAnIteration() {
    java.util.List<GenerationRequest> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
    Backend generative = new Backend() {
      @Override
      public String name() {
        return "gen";
      }

      @Override
      public boolean supports(ModelSource source) {
        return true;
      }

      @Override
      public LoadedModel load(ModelSource source) {
        return new LoadedModel() {
          @Override
          public ModelMetadata metadata() {
            return ModelMetadata.builder("gen").capabilities(Capability.GENERATIVE).build();
          }

          @Override
          public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs) {
            throw new UnsupportedOperationException();
          }

          @Override
          public GenerationHandle generate(GenerationRequest request, GenerationSink sink) {
            asked.add(request);
            sink.token("x", 1);
            sink.complete(FinishReason.LENGTH, new Usage(1, 1));
            return () -> { };
          }

          @Override
          public void close() {}
        };
      }
    };
    try (ModelServer server = ModelServer.builder().backend(generative).discoverBackends(false)
        .build()) {
      server.registry().configure("twice", ModelConfig.builder().warmupIterations(2).build());
      server.registry().configure("off", ModelConfig.builder().warmup(false).build());
      ModelStatus twice = server.registry().load("twice", 1, Path.of("a.gguf")).join();
      assertThat(asked).hasSize(2);
      assertThat(asked.get(0).maxTokens()).isLessThanOrEqualTo(8);
      assertThat(twice.warmedUp()).isTrue();
      assertThat(twice.warmupTime()).isPresent();
      ModelStatus off = server.registry().load("off", 1, Path.of("b.gguf")).join();
      assertThat(asked).hasSize(2);
      assertThat(off.warmedUp()).isFalse();
      assertThat(off.warmupTime()).isEmpty();
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
