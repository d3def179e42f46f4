package dev.modserv.core;

import static dev.modserv.core.ModelServerTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.Capability;
import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.Backend;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.FakeBackend;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EmbedTest {

  /** Embeds a string as [length, vowels]. */
  static final class LengthEmbedder implements Backend {
    @Override
    public String name() {
      return "length";
    }

    @Override
    public boolean supports(ModelSource source) {
      return source.fileName().endsWith(".len");
    }

    @Override
    public LoadedModel load(ModelSource source) {
      ModelMetadata metadata = ModelMetadata.builder("length")
          .input(TensorSpec.of(Capability.EMBEDDING_INPUT, DataType.STRING, -1))
          .output(TensorSpec.of(Capability.EMBEDDING_OUTPUT, DataType.FP32, -1, 2))
          .capabilities(Capability.TENSOR, Capability.BATCHABLE, Capability.EMBEDDING)
          .build();
      return new LoadedModel() {
        @Override
        public ModelMetadata metadata() {
          return metadata;
        }

        @Override
        public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs) {
          List<String> texts = inputs.get(Capability.EMBEDDING_INPUT).strings();
          float[] out = new float[texts.size() * 2];
          for (int i = 0; i < texts.size(); i++) {
            out[2 * i] = texts.get(i).length();
            out[2 * i + 1] = texts.get(i).replaceAll("[^aeiou]", "").length();
          }
          return Map.of(Capability.EMBEDDING_OUTPUT, Tensor.of(out, texts.size(), 2));
        }

        @Override
        public void close() {}
      };
    }
  }

  @Test
  void embedsTextsInOrderThroughTheBatcher() {
    try (ModelServer server = ModelServer.builder().backend(new LengthEmbedder())
        .backend(FakeBackend.create()).discoverBackends(false).build()) {
      server.registry().load("e", 1, Path.of("e.len")).join();
      float[][] vectors = server.embed("e", List.of("hello", "a", "queue"));
      assertThat(vectors).hasDimensions(3, 2);
      assertThat(vectors[0]).containsExactly(5, 2);
      assertThat(vectors[1]).containsExactly(1, 1);
      assertThat(vectors[2]).containsExactly(5, 4);

      assertCode(() -> server.embed("e", List.of()), ErrorCode.INVALID_INPUT,
          "nothing to embed");
      server.registry().load("f", 1, Path.of("f.fake")).join();
      assertCode(() -> server.embed("f", List.of("x")), ErrorCode.INVALID_INPUT,
          "model 'f': unknown input 'text'");
    }
  }
}
