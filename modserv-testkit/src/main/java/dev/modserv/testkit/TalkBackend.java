package dev.modserv.testkit;

import dev.modserv.api.Capability;
import dev.modserv.api.DataType;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.api.Usage;
import dev.modserv.spi.Backend;
import dev.modserv.spi.GenerationHandle;
import dev.modserv.spi.GenerationSink;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.util.Map;
import java.util.Set;

/**
 * A test engine for {@code .talk} files: a model that generates (it says the words of the last
 * message or prompt back, one token each) and embeds text (two numbers per text: its length and
 * its first character). For tests of what the adapter records around generation and embeddings,
 * not of an engine. Not listed for ServiceLoader: pass it to the builder.
 */
public final class TalkBackend implements Backend {
  @Override
  public String name() {
    return "talk";
  }

  @Override
  public boolean supports(ModelSource source) {
    return source.fileName().endsWith(".talk");
  }

  @Override
  public LoadedModel load(ModelSource source) {
    ModelMetadata metadata = ModelMetadata.builder("talk")
        .input(TensorSpec.of(Capability.EMBEDDING_INPUT, DataType.STRING, -1))
        .output(TensorSpec.of(Capability.EMBEDDING_OUTPUT, DataType.FP32, -1, 2))
        .capabilities(Capability.GENERATIVE, Capability.EMBEDDING, Capability.BATCHABLE).build();
    return new LoadedModel() {
      @Override
      public ModelMetadata metadata() {
        return metadata;
      }

      @Override
      public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs) {
        String[] texts = java.util.Objects.requireNonNull(inputs.get(Capability.EMBEDDING_INPUT),
            "text").toStringArray();
        float[] vectors = new float[texts.length * 2];
        for (int i = 0; i < texts.length; i++) {
          vectors[2 * i] = texts[i].length();
          vectors[2 * i + 1] = texts[i].isEmpty() ? 0 : texts[i].charAt(0);
        }
        return Map.of(Capability.EMBEDDING_OUTPUT, Tensor.of(vectors, texts.length, 2));
      }

      @Override
      public int generationSlots() {
        return 2;
      }

      @Override
      public GenerationHandle generate(GenerationRequest request, GenerationSink sink) {
        String text = request.prompt().orElseGet(() -> request.messages().isEmpty() ? ""
            : request.messages().get(request.messages().size() - 1).content());
        String[] words = text.isBlank() ? new String[0] : text.strip().split("\\s+");
        Thread.ofVirtual().start(() -> {
          sink.prompt(words.length);
          int n = Math.min(words.length, request.maxTokens());
          for (int i = 0; i < n; i++) {
            sink.token((i == 0 ? "" : " ") + words[i], 1);
          }
          sink.complete(n < words.length ? FinishReason.LENGTH : FinishReason.STOP,
              new Usage(words.length, n));
        });
        return () -> { };
      }

      @Override
      public void close() {}
    };
  }
}
