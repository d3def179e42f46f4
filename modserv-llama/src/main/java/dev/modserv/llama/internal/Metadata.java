package dev.modserv.llama.internal;

import dev.modserv.api.Capability;
import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Metadata and tensors shared by both modes. */
final class Metadata {
  private Metadata() {}

  static ModelMetadata of(LlamaOptions options, GgufHeader header, int dimensions, String mode) {
    ModelMetadata.Builder b = ModelMetadata.builder("llama");
    header.properties().forEach(b::property);
    if (options.embedding()) {
      b.input(TensorSpec.of(Capability.EMBEDDING_INPUT, DataType.STRING, -1))
          .output(TensorSpec.of(Capability.EMBEDDING_OUTPUT, DataType.FP32, -1, dimensions))
          .output(TensorSpec.of(Capability.EMBEDDING_TOKENS, DataType.INT64, -1))
          .capabilities(Capability.TENSOR, Capability.BATCHABLE, Capability.EMBEDDING)
          .property("pooling", options.pooling());
    } else {
      b.capabilities(Capability.GENERATIVE);
    }
    if (options.batchSize() > 0) {
      b.property("batch-size", Integer.toString(options.batchSize()));
    }
    if (!options.chatTemplate().isEmpty()) {
      b.property("chat-template", options.chatTemplate());
    }
    if (!options.workerJvmOptions().isEmpty() && !options.inProcess()) {
      b.property("worker-jvm-options", String.join(" ", options.workerJvmOptions()));
    }
    return b.property("mode", mode)
        .property("context-size", Integer.toString(options.contextSize()))
        .property("parallel", Integer.toString(options.parallel()))
        .property("threads", Integer.toString(options.threads()))
        .property("gpu-layers", Integer.toString(options.gpuLayers()))
        .build();
  }

  /**
   * The vectors and token counts as the model's outputs, in the metadata's order: those in
   * {@code requested}, or both when it is empty.
   */
  static Map<String, Tensor> outputs(Engine.Embedded embedded, int dimensions,
      Set<String> requested) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    if (requested.isEmpty() || requested.contains(Capability.EMBEDDING_OUTPUT)) {
      float[][] rows = embedded.vectors();
      float[] flat = new float[rows.length * dimensions];
      for (int i = 0; i < rows.length; i++) {
        System.arraycopy(rows[i], 0, flat, i * dimensions, dimensions);
      }
      out.put(Capability.EMBEDDING_OUTPUT, Tensor.of(flat, rows.length, dimensions));
    }
    if (requested.isEmpty() || requested.contains(Capability.EMBEDDING_TOKENS)) {
      out.put(Capability.EMBEDDING_TOKENS,
          Tensor.of(embedded.tokens(), embedded.tokens().length));
    }
    return out;
  }
}
