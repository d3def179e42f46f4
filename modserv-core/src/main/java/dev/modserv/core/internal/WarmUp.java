package dev.modserv.core.internal;

import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.core.ModelConfig;
import dev.modserv.spi.RunCancel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warm-up of a WARMING version: its configured samples, or one request of zeros built from its
 * metadata, each run {@link ModelConfig#warmupIterations()} times, on the loading thread.
 */
final class WarmUp {
  private static final Logger log = LoggerFactory.getLogger(WarmUp.class);

  private WarmUp() {}

  /** Warms {@code v} up; LOAD_FAILED when a sample fails. */
  static void run(ModelVersion v, ModelMetadata metadata) {
    ModelConfig config = v.config;
    if (!config.warmup() || !metadata.has(Capability.TENSOR)) {
      v.warmedUp(false);
      return;
    }
    List<Map<String, Tensor>> samples = config.warmupSamples();
    if (samples.isEmpty()) {
      Optional<Map<String, Tensor>> zeros = zeros(metadata);
      if (zeros.isEmpty()) {
        log.info("'{}' version {}: no warm-up, an input has an unknown rank; declare warm-up"
            + " samples in its configuration", v.name, v.version);
        return;
      }
      samples = List.of(zeros.get());
    }
    for (int i = 0; i < config.warmupIterations(); i++) {
      for (Map<String, Tensor> sample : samples) {
        runOne(v, metadata, sample);
      }
    }
    v.warmedUp(true);
  }

  private static void runOne(ModelVersion v, ModelMetadata metadata, Map<String, Tensor> sample) {
    try {
      InputValidator.validate(v.name, metadata, sample, Set.of());
      v.model().run(sample, Set.of(), Map.of(), RunCancel.NEVER);
    } catch (Exception e) {
      throw new ModelServingException(ErrorCode.LOAD_FAILED,
          "warm-up of '" + v.name + "' version " + v.version + " failed: " + e.getMessage(), e);
    }
  }

  /** One request of zeros, one row wherever a dimension is dynamic. */
  static Optional<Map<String, Tensor>> zeros(ModelMetadata metadata) {
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (TensorSpec spec : metadata.inputs()) {
      if (!spec.isRankKnown()) {
        return Optional.empty();
      }
      long[] shape = spec.shape();
      for (int i = 0; i < shape.length; i++) {
        if (shape[i] == -1) {
          shape[i] = 1;
        }
      }
      inputs.put(spec.name(), Tensor.zeros(spec.dataType(), shape));
    }
    return inputs.isEmpty() ? Optional.empty() : Optional.of(inputs);
  }
}
