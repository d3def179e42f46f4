package dev.modserv.llama.internal;

import dev.modserv.api.Capability;
import dev.modserv.api.DataType;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import java.util.Map;

/** Metadata and tensors shared by both modes. */
final class Metadata {
  private Metadata() {}

  static ModelMetadata of(LlamaOptions options, int dimensions, String mode) {
    ModelMetadata.Builder b = ModelMetadata.builder("llama");
    if (options.embedding()) {
      b.input(TensorSpec.of(Capability.EMBEDDING_INPUT, DataType.STRING, -1))
          .output(TensorSpec.of(Capability.EMBEDDING_OUTPUT, DataType.FP32, -1, dimensions))
          .capabilities(Capability.TENSOR, Capability.BATCHABLE, Capability.EMBEDDING)
          .property("pooling", options.pooling());
    } else {
      b.capabilities(Capability.GENERATIVE);
    }
    return b.property("mode", mode)
        .property("context-size", Integer.toString(options.contextSize()))
        .property("parallel", Integer.toString(options.parallel()))
        .property("threads", Integer.toString(options.threads()))
        .build();
  }

  static Map<String, Tensor> vectors(float[][] rows, int dimensions) {
    float[] flat = new float[rows.length * dimensions];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * dimensions, dimensions);
    }
    return Map.of(Capability.EMBEDDING_OUTPUT, Tensor.of(flat, rows.length, dimensions));
  }
}
