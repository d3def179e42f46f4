package dev.modserv.http;

import dev.modserv.core.ModelConfig;
import java.util.List;
import java.util.Objects;

/**
 * A model this node does not hold, known by its published figures, that the node fit report
 * ({@code /api/v1/models}) rates as well ({@link HttpAdapter.Builder#fitCatalog}): so that a
 * scheduler can ask a node about models it would have to fetch. The standalone server reads them
 * from {@code --fit-catalog FILE} ({@code docs/node-fit.md}).
 *
 * <p>Its memory: the weights ({@code artifactBytes}, else {@code parameters} at the bits per
 * weight of {@code quantization}), the KV cache ({@code layers} × context × {@code kvHeads} × 2
 * × {@code headSize} × 2 bytes, when the three are given), and what the engine adds ({@code
 * docs/node-fit.md}).
 *
 * @param name the model's name, as the report shows it
 * @param engine the engine that would load it: {@code llama}, {@code onnxruntime}, {@code
 *     tensorflow}
 * @param parameters the parameter count; 0 when not given
 * @param quantization e.g. {@code Q4_K_M}, {@code F16}; empty when not given
 * @param contextLength the context the model was trained for, in tokens; 0 when not given
 * @param useCases what it is for, each one of {@link ModelConfig#USE_CASES}
 * @param artifactBytes the published size of its file; 0 when not given
 * @param layers transformer blocks, for the KV cache; 0 when not given
 * @param kvHeads key/value heads, for the KV cache; 0 when not given
 * @param headSize one head's width, for the KV cache; 0 when not given
 */
public record FitCandidate(String name, String engine, long parameters, String quantization,
    int contextLength, List<String> useCases, long artifactBytes, int layers, int kvHeads,
    int headSize) {

  /**
   * Checks the figures.
   *
   * @throws IllegalArgumentException naming the field: a blank name or engine, a negative
   *     number, an unknown use case, or neither a size nor a parameter count
   */
  public FitCandidate {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(quantization, "quantization");
    useCases = List.copyOf(useCases);
    if (name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank");
    }
    if (engine.isBlank()) {
      throw new IllegalArgumentException(name + ": engine must not be blank");
    }
    if (parameters < 0 || contextLength < 0 || artifactBytes < 0 || layers < 0 || kvHeads < 0
        || headSize < 0) {
      throw new IllegalArgumentException(name + ": parameters, context length, artifact size,"
          + " layers, KV heads and head size must not be negative");
    }
    for (String c : useCases) {
      if (!ModelConfig.USE_CASES.contains(c)) {
        throw new IllegalArgumentException(name + ": unknown use case '" + c + "': use one of "
            + String.join(", ", ModelConfig.USE_CASES));
      }
    }
    if (artifactBytes == 0 && (parameters == 0 || bitsPerWeight(quantization) == 0)) {
      throw new IllegalArgumentException(name + ": give its artifact size, or its parameters and"
          + " a known quantization");
    }
  }

  /**
   * Bits per weight of a quantization as llama.cpp stores it (block scales included), e.g. 4.5
   * for {@code Q4_0}, 16 for {@code F16}; 0 when unknown. K-quant mixes ({@code _S}, {@code _M},
   * {@code _L}) take their base type's figure.
   */
  public static double bitsPerWeight(String quantization) {
    String q = quantization.toUpperCase(java.util.Locale.ROOT).replaceFirst("_[SML]$", "");
    return switch (q) {
      case "F32", "FP32" -> 32;
      case "F16", "FP16", "BF16" -> 16;
      case "Q8_0" -> 8.5;
      case "Q6_K" -> 6.5625;
      case "Q5_K" -> 5.5;
      case "Q5_0" -> 5.5;
      case "Q5_1" -> 6;
      case "Q4_K" -> 4.5;
      case "Q4_0" -> 4.5;
      case "Q4_1" -> 5;
      case "Q3_K" -> 3.4375;
      case "Q2_K" -> 2.625;
      case "INT8", "I8" -> 8;
      default -> 0;
    };
  }

  /** The weights' bytes: the artifact's size, else parameters at the quantization's width. */
  public long weightBytes() {
    return artifactBytes > 0 ? artifactBytes
        : (long) Math.ceil(parameters * bitsPerWeight(quantization) / 8);
  }

  /**
   * The KV cache for {@code contextTokens} (f16 keys and values); 0 when the layers, KV heads or
   * head size are not given.
   */
  public long kvCacheBytes(long contextTokens) {
    // At most 2^31 each: the product stays far from overflow only when bounded, so saturate.
    double bytes = (double) layers * contextTokens * kvHeads * 2 * headSize * 2;
    return bytes >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) bytes;
  }
}
