package dev.modserv.llama;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.ModuleServices;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Embeddings with each pooling that works; generation refused on an embedding model. */
class EmbeddingTest {

  private static float[] embed(LoadedModel m, String text) throws Exception {
    Tensor out = m.run(Map.of(Capability.EMBEDDING_INPUT, Tensor.of(new String[] {text}, 1)),
        Set.of()).get(Capability.EMBEDDING_OUTPUT);
    assertThat(out.shape()).containsExactly(1, 64);
    float[] v = new float[64];
    out.floatBuffer().get(v);
    return v;
  }

  private static double norm(float[] v) {
    double s = 0;
    for (float x : v) {
      s += x * x;
    }
    return Math.sqrt(s);
  }

  @Test
  void lastAndClsPoolingGiveUnitVectorsNoneGivesARawOne() throws Exception {
    for (String pooling : new String[] {"last", "cls", "none"}) {
      try (LoadedModel m = new LlamaBackend().load(ModelSource.of(Fixtures.tiny())
          .withOption("embedding", "true").withOption("pooling", pooling)
          .withOption("context-size", "256"))) {
        assertThat(m.metadata().has(Capability.EMBEDDING)).isTrue();
        assertThat(m.metadata().properties()).containsEntry("pooling", pooling);
        float[] a = embed(m, "hello world");
        assertThat(embed(m, "hello world")).containsExactly(a);
        if (pooling.equals("last")) {
          // cls and none take the first position: with a causal model, the BOS token's.
          assertThat(embed(m, "the model")).isNotEqualTo(a);
        }
        if (!pooling.equals("none")) {
          assertThat(norm(a)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-3));
        }
        assertThatThrownBy(() -> m.generate(GenerationRequest.builder("m").prompt("x")
            .build(), new Collector()))
            .isInstanceOf(ModelServingException.class)
            .extracting(e -> ((ModelServingException) e).code())
            .isEqualTo(ErrorCode.INVALID_INPUT);
      }
    }
  }

  @Test
  void eachTextComesWithItsTokenCountInBothModes() throws Exception {
    for (String mode : new String[] {"worker", "in-process"}) {
      try (LoadedModel m = new LlamaBackend().load(ModelSource.of(Fixtures.tiny())
          .withOption("embedding", "true").withOption("mode", mode)
          .withOption("context-size", "256"))) {
        assertThat(m.metadata().output(Capability.EMBEDDING_TOKENS)).isPresent();
        Map<String, Tensor> out = m.run(Map.of(Capability.EMBEDDING_INPUT, Tensor.of(
            new String[] {"hi", "hello world, serve the model"}, 2)), Set.of());
        assertThat(out.keySet()).containsExactly(Capability.EMBEDDING_OUTPUT,
            Capability.EMBEDDING_TOKENS);
        assertThat(out.get(Capability.EMBEDDING_OUTPUT).shape()).containsExactly(2, 64);
        long[] tokens = out.get(Capability.EMBEDDING_TOKENS).toLongArray();
        assertThat(tokens).hasSize(2);
        // The fixture's vocabulary falls back to bytes: at most one token per byte, at least one.
        assertThat(tokens[0]).isBetween(1L, 2L);
        assertThat(tokens[1]).isGreaterThan(tokens[0]).isLessThanOrEqualTo(28L);
      }
    }
  }

  @Test
  void aGenerativeModelRefusesToEmbed() throws Exception {
    try (LoadedModel m = new LlamaBackend().load(ModelSource.of(Fixtures.tiny())
        .withOption("context-size", "256"))) {
      assertThat(m.metadata().capabilities()).containsExactly(Capability.GENERATIVE);
      assertThatThrownBy(() -> embed(m, "x")).isInstanceOf(ModelServingException.class)
          .hasMessageContaining("load it with embedding=true");
    }
  }

  @Test
  void moduleInfoAndServicesAgree() {
    ModuleServices.assertConsistent(Path.of("target", "classes"));
  }
}
