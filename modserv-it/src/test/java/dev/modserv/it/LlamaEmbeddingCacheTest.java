package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.Capability;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.TinyLlama;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-text embedding cache in front of a GGUF embedding model (llama worker mode). */
class LlamaEmbeddingCacheTest {
  @TempDir static Path dir;
  private static final SimpleMeterRegistry METERS = new SimpleMeterRegistry();
  private static ModelServer server;

  @BeforeAll
  static void start() throws Exception {
    Path gguf = TinyLlama.builder().build().write(dir.resolve("tiny.gguf"));
    server = ModelServer.builder().meterRegistry(METERS).build();
    Map<String, String> embedding = Map.of("embedding", "true", "context-size", "256");
    server.registry().configure("cached", ModelConfig.builder().embeddingCache(true).build());
    server.registry().load("cached", 1, new ModelSource(gguf, embedding)).join();
    server.registry().load("plain", 1, new ModelSource(gguf, embedding)).join();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static InferenceResult embed(String model, String... texts) {
    return server.infer(InferenceRequest.builder(model)
        .input(Capability.EMBEDDING_INPUT, Tensor.of(texts, texts.length)).build());
  }

  private static double count(String meter) {
    return METERS.get(meter).tag("cache", "embedding").tag("model", "cached").counter().count();
  }

  @Test
  void seenTextsAreServedFromTheCacheWithTheirVectorsAndTokenCounts() {
    InferenceResult first = embed("cached", "hello world", "the model");
    double misses = count("modserv.cache.misses");
    double hits = count("modserv.cache.hits");

    InferenceResult mixed = embed("cached", "the model", "a new text", "hello world");
    InferenceResult plain = embed("plain", "the model", "a new text", "hello world");

    assertThat(count("modserv.cache.hits") - hits).as("seen texts").isEqualTo(2);
    assertThat(count("modserv.cache.misses") - misses).as("unseen texts").isEqualTo(1);
    float[] firstVectors = first.requireOutput(Capability.EMBEDDING_OUTPUT).toFloatArray();
    float[] mixedVectors = mixed.requireOutput(Capability.EMBEDDING_OUTPUT).toFloatArray();
    int dims = firstVectors.length / 2;
    for (int i = 0; i < dims; i++) {
      assertThat(mixedVectors[i]).as("'the model' from the cache").isEqualTo(firstVectors[dims + i]);
      assertThat(mixedVectors[2 * dims + i]).as("'hello world' from the cache")
          .isEqualTo(firstVectors[i]);
    }
    assertThat(mixed.requireOutput(Capability.EMBEDDING_TOKENS).toLongArray())
        .as("token counts on hits equal the uncached ones")
        .containsExactly(plain.requireOutput(Capability.EMBEDDING_TOKENS).toLongArray());
    assertThat(mixedVectors).usingComparatorWithPrecision(1e-4f)
        .containsExactly(plain.requireOutput(Capability.EMBEDDING_OUTPUT).toFloatArray());
  }
}
