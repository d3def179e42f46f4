package dev.modserv.benchmarks;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.Tensor;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.FakeModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;

/** What the benchmarks share: the model, its requests, and the batch-size log. */
final class BenchModels {
  /** The model's name in the server. */
  static final String MODEL = "bench";

  /** The fake engine's source. */
  static final ModelSource SOURCE = ModelSource.of(Path.of("bench.fake"));

  /**
   * The system property naming a file to which each trial appends one line of batch sizes; unset,
   * nothing is written.
   */
  static final String BATCH_LOG_PROPERTY = "modserv.bench.batchLog";

  private BenchModels() {}

  /** One single-row request for the fake model's default metadata ({@code x: [-1, 4]}). */
  static Map<String, Tensor> singleRow() {
    return Map.of("x", Tensor.of(new float[] {1, 2, 3, 4}, 1, 4));
  }

  static InferenceRequest request(Map<String, Tensor> inputs) {
    return InferenceRequest.builder(MODEL).inputs(inputs).build();
  }

  /**
   * The batched policy: up to 128 rows (more than the most callers, so a batch can hold every
   * waiting request), no delay window (whatever is queued goes as soon as the engine is free), a
   * queue that never fills at 128 callers, one engine instance.
   */
  static BatchingPolicy batched() {
    return BatchingPolicy.builder()
        .maxBatchSize(128)
        .maxQueueDelay(java.time.Duration.ZERO)
        .maxQueueSize(1024)
        .instances(1)
        .build();
  }

  /** The unbatched policy: the same queue and instance, one row per engine call. */
  static BatchingPolicy unbatched() {
    return BatchingPolicy.builder()
        .maxBatchSize(1)
        .maxQueueDelay(java.time.Duration.ZERO)
        .maxQueueSize(1024)
        .instances(1)
        .build();
  }

  /** Configures and loads {@link #MODEL} version 1 on {@code server}; returns its fake model. */
  static FakeModel load(ModelServer server, FakeBackend backend, BatchingPolicy policy) {
    server.registry().configure(MODEL, ModelConfig.builder().batching(policy).build());
    ModelStatus status = server.registry().load(MODEL, 1, SOURCE).join();
    if (status.state() != ModelState.READY) {
      throw new IllegalStateException("the benchmark model did not load: " + status);
    }
    return backend.loaded().get(backend.loaded().size() - 1);
  }

  /**
   * Appends one line to the batch log, if {@link #BATCH_LOG_PROPERTY} names one: tab-separated
   * benchmark, JMH mode, threads, parameters, engine runs, rows, mean rows per run, and the
   * engine's busy fraction (NaN when the benchmark does not know it).
   */
  static void logBatches(String benchmark, String mode, int threads, String params, long runs,
      long rows, double engineBusy) {
    String file = System.getProperty(BATCH_LOG_PROPERTY);
    if (file == null || file.isBlank()) {
      return;
    }
    String line = String.format(Locale.ROOT, "%s\t%s\t%d\t%s\t%d\t%d\t%.2f\t%.3f%n", benchmark,
        mode, threads, params, runs, rows, runs == 0 ? 0.0 : (double) rows / runs, engineBusy);
    try {
      Files.writeString(Path.of(file), line, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the batch log " + file, e);
    }
  }
}
