package dev.modserv.core.internal;

import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.api.Usage;
import dev.modserv.core.ModelConfig;
import dev.modserv.spi.GenerationHandle;
import dev.modserv.spi.GenerationSink;
import dev.modserv.spi.RunCancel;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warm-up of a WARMING version: its configured samples, or one request of zeros built from its
 * metadata (one short text for a text-embedding model), each run {@link
 * ModelConfig#warmupIterations()} times, on the loading thread. A generative model without a
 * tensor interface generates a few tokens instead, so its first client does not pay for the
 * engine's first-use costs (a worker's compilation, the KV cache's first touch).
 */
final class WarmUp {
  private static final Logger log = LoggerFactory.getLogger(WarmUp.class);

  private WarmUp() {}

  /** Warms {@code v} up; LOAD_FAILED when a sample fails. */
  static void run(ModelVersion v, ModelMetadata metadata) {
    ModelConfig config = v.config;
    if (!config.warmup()) {
      v.warmedUp(false);
      return;
    }
    if (!metadata.has(Capability.TENSOR)) {
      if (metadata.has(Capability.GENERATIVE)) {
        for (int i = 0; i < config.warmupIterations(); i++) {
          generateOne(v);
        }
        v.warmedUp(true);
      } else {
        v.warmedUp(false);
      }
      return;
    }
    List<Map<String, Tensor>> samples = config.warmupSamples();
    if (samples.isEmpty() && metadata.has(Capability.EMBEDDING)) {
      // An empty string is no text to embed; some engines refuse it.
      samples = List.of(Map.of(Capability.EMBEDDING_INPUT,
          Tensor.of(new String[] {WARMUP_TEXT}, 1)));
    }
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

  /** The text of a warm-up generation or embedding. */
  static final String WARMUP_TEXT = "Hello";

  /** Tokens of a warm-up generation: enough to run the decode loop, few enough to be quick. */
  static final int WARMUP_TOKENS = 4;

  /** How long a warm-up generation may take before the load fails. */
  static final Duration WARMUP_GENERATION_LIMIT = Duration.ofMinutes(5);

  private static void generateOne(ModelVersion v) {
    CompletableFuture<FinishReason> done = new CompletableFuture<>();
    @Nullable GenerationHandle handle = null;
    try {
      GenerationRequest request = GenerationRequest.builder(ModelRef.of(v.name, v.version))
          .prompt(WARMUP_TEXT).maxTokens(WARMUP_TOKENS).temperature(0).seed(0).build();
      handle = v.model().generate(request, new GenerationSink() {
        @Override
        public void token(String text, int tokens) {}

        @Override
        public void complete(FinishReason reason, Usage usage) {
          done.complete(reason);
        }

        @Override
        public void fail(Throwable error) {
          done.completeExceptionally(error);
        }
      });
      done.get(WARMUP_GENERATION_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      if (handle != null) {
        handle.cancel();
      }
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      throw new ModelServingException(ErrorCode.LOAD_FAILED, "warm-up generation of '" + v.name
          + "' version " + v.version + " failed: " + (cause instanceof TimeoutException
              ? "no answer within " + WARMUP_GENERATION_LIMIT.toSeconds() + " s"
              : cause.getMessage()), cause);
    }
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
