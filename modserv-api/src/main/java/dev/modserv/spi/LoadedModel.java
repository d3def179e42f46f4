package dev.modserv.spi;

import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import java.util.Map;
import java.util.Set;

/**
 * One loaded model version, owned by the model server.
 *
 * <p>The server guarantees: {@link #run} is called from at most {@link #concurrentRuns()} threads
 * at once (or the model's configured {@code instances}, when its user set them); inputs were
 * checked against {@link #metadata()} (names, types, ranks, fixed dimensions) before {@code run}
 * is called; {@link #close()} is called exactly once, after the last {@code run} has returned,
 * and no call follows it.
 */
public interface LoadedModel extends AutoCloseable {
  /** Returns what the model takes and gives. Must not change while the model is loaded. */
  ModelMetadata metadata();

  /**
   * Runs one batch.
   *
   * @param inputs the input tensors by name; for a batchable model, rows of several requests
   *     stacked along the first dimension
   * @param outputs the names of the outputs wanted; empty means all
   * @return the output tensors by name, with as many rows as the inputs for a batchable model
   * @throws Exception on failure: a {@code ModelServingException} with {@code INVALID_INPUT} when
   *     the engine refuses the values, anything else becomes {@code BACKEND_ERROR}
   */
  Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs) throws Exception;

  /**
   * Returns what the model takes and gives for requests carrying {@code parameters} (see {@code
   * InferenceRequest.parameters()}), e.g. another signature. By default only requests without
   * parameters are served.
   *
   * @throws dev.modserv.api.ModelServingException {@code INVALID_INPUT} for parameters the engine
   *     does not take
   */
  default ModelMetadata metadata(Map<String, String> parameters) {
    if (parameters.isEmpty()) {
      return metadata();
    }
    throw noParameters(parameters);
  }

  /**
   * Runs one batch of requests carrying {@code parameters}; by default only requests without
   * parameters are served, through {@link #run(Map, Set)}.
   */
  default Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs,
      Map<String, String> parameters) throws Exception {
    if (parameters.isEmpty()) {
      return run(inputs, outputs);
    }
    throw noParameters(parameters);
  }

  /**
   * Runs one batch that the server may {@linkplain RunCancel cancel} once every request in it
   * passed its deadline (and was answered {@code TIMEOUT}). The server always calls this method;
   * by default it ignores {@code cancel} and calls {@link #run(Map, Set, Map)}. An engine that can
   * stop a run early overrides it, so that the model instance is free for the next batch sooner.
   * A run that stops because it was cancelled may throw anything: nobody reads its answer.
   */
  default Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs,
      Map<String, String> parameters, RunCancel cancel) throws Exception {
    return run(inputs, outputs, parameters);
  }

  private static dev.modserv.api.ModelServingException noParameters(Map<String, String> parameters) {
    return new dev.modserv.api.ModelServingException(dev.modserv.api.ErrorCode.INVALID_INPUT,
        "this model takes no request parameters; got " + new java.util.TreeSet<>(
            parameters.keySet()));
  }

  /**
   * Starts generating text for {@code request} and returns at once; the engine delivers text to
   * {@code sink} on its own thread. Only models with the {@code GENERATIVE} capability implement
   * it. The server calls it no more often at once than the model's concurrent sequences allow and
   * has checked the request's values; the engine checks what only it can (the context size).
   *
   * @throws Exception when the generation cannot start: a {@code ModelServingException} keeps its
   *     code, anything else becomes {@code BACKEND_ERROR}
   */
  default GenerationHandle generate(dev.modserv.api.GenerationRequest request,
      GenerationSink sink) throws Exception {
    throw new dev.modserv.api.ModelServingException(dev.modserv.api.ErrorCode.INVALID_INPUT,
        "this model does not generate text (it has no GENERATIVE capability)");
  }

  /**
   * Returns how many generations this model runs at once (its sequences, or slots); the server
   * queues the rest. Defaults to 1.
   */
  default int generationSlots() {
    return 1;
  }

  /**
   * Returns how many batches this model can run at once, on as many threads: the number of
   * engine instances the server gives it when the model's batching policy sets none. An engine
   * whose runs are thread-safe says more than 1 (ONNX Runtime: one per available processor); one
   * that serialises runs itself, or is not thread-safe, keeps the default of 1. Each concurrent run
   * holds its own activations, so more runs cost more memory while they overlap.
   */
  default int concurrentRuns() {
    return 1;
  }

  /**
   * Returns the model's estimated native memory in bytes, or -1 when the engine cannot tell (the
   * server then estimates from the artifact's size). Defaults to -1.
   */
  default long memoryBytes() {
    return -1;
  }

  /** Frees the model's native resources. Called once, after the last {@link #run}. */
  @Override
  void close() throws Exception;
}
