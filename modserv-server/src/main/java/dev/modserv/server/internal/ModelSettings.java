package dev.modserv.server.internal;

import dev.modserv.core.ModelConfig;
import java.util.Map;

/**
 * What a model's {@code model.yaml} says: the registry's configuration plus what only the
 * repository uses.
 *
 * @param config version policy, warm-up, batching, keep-alive, memory, engine, pre- and
 *     post-processing
 * @param engineOptions options passed to the engine with every version ({@code engine-options})
 * @param labels label to version ({@code labels})
 * @param requiredForReadiness whether {@code /ready} waits for this model
 * @param servingKey the settings that need a reload to change (everything but the labels,
 *     readiness and processing), in a canonical form: two settings with the same key differ only
 *     in what applies at once
 */
public record ModelSettings(
    ModelConfig config,
    Map<String, String> engineOptions,
    Map<String, Long> labels,
    boolean requiredForReadiness,
    String servingKey) {

  /** Copies the maps. */
  public ModelSettings {
    engineOptions = Map.copyOf(engineOptions);
    labels = Map.copyOf(labels);
  }

  /** Returns the settings of a model without a {@code model.yaml}. */
  public static ModelSettings defaults() {
    return new ModelSettings(ModelConfig.defaults(), Map.of(), Map.of(), true, "{}");
  }
}
