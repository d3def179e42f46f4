package dev.modserv.core;

import dev.modserv.core.internal.MicrometerServingMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.IntSupplier;

/**
 * What the server records, through one small interface. The default writes to a Micrometer
 * {@link MeterRegistry} ({@link #micrometer(MeterRegistry)}), or nowhere ({@link #noop()}). A
 * custom implementation may be passed to the builder; if it throws, the server logs and goes on
 * serving.
 *
 * <p>Meters: {@link ServingMeter} ({@code docs/metrics.md});
 * every per-model meter is tagged {@code model} and {@code version}, outcome-bearing ones also
 * {@code outcome}.
 */
public interface ServingMetrics {

  /** How a request ended, the {@code outcome} tag. */
  enum Outcome {
    /** Completed with a result. */
    SUCCESS,
    /** Failed in the engine or in validation. */
    ERROR,
    /** Refused at admission: queue full, not ready, shutting down. */
    REJECTED,
    /** Its deadline passed. */
    TIMEOUT;

    /** Returns the tag value, lower case. */
    public String tag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * Returns the recorder for one model version, called once when the version starts loading;
   * requests to it then record without looking meters up.
   */
  VersionMetrics version(String model, long version);

  /** Records how long a load took, to ready or to failure. */
  void loadFinished(String model, long version, long nanos, boolean success);

  /** Binds the gauge of loaded (ready) model versions; called once when the server starts. */
  void loadedModels(IntSupplier count);

  /**
   * Binds the embedding cache's meters of {@code model} ({@code docs/embedding-cache.md}); called
   * once per model, when a request first uses its cache. Defaults to nothing.
   */
  default void embeddingCache(String model, EmbeddingCacheCounts counts) {}

  /** What one model's embedding cache counts, read whenever its meters are read. */
  interface EmbeddingCacheCounts {
    /** Texts served from the cache, since the server started. */
    long hits();

    /** Texts the model ran because the cache did not hold them. */
    long misses();

    /** Entries the cache dropped to stay within its bound. */
    long evictions();

    /** Bytes the cache holds for the model now (an estimate: vectors, texts and overhead). */
    long bytes();
  }

  /** Records for one model version. */
  interface VersionMetrics {
    /** Records a finished request, end to end. */
    void request(Outcome outcome, long latencyNanos);

    /** Records how long a request waited before its engine call started. */
    void queueWait(long nanos);

    /** Records one engine call of {@code rows} rows taking {@code engineNanos}. */
    void batch(int rows, long engineNanos);

    /** Binds the queue-depth gauge. */
    void queueDepth(IntSupplier depth);

    /**
     * Records a finished generation: its tokens, time to first token, time per output token and
     * tokens per second. Defaults to nothing.
     */
    default void generation(dev.modserv.api.FinishReason reason, dev.modserv.api.Usage usage,
        dev.modserv.api.GenerationTimings timings) {}

    /** Binds the gauges of running and waiting generation sequences. Defaults to nothing. */
    default void generationSequences(IntSupplier running, IntSupplier waiting) {}

    /** Removes this version's meters; called once when the version unloads. */
    void close();
  }

  /** Returns metrics that record nothing. */
  static ServingMetrics noop() {
    return Noop.INSTANCE;
  }

  /** Returns metrics written to {@code registry}. */
  static ServingMetrics micrometer(MeterRegistry registry) {
    return new MicrometerServingMetrics(registry);
  }

  /** The no-op implementation. */
  enum Noop implements ServingMetrics, VersionMetrics {
    /** The one instance. */
    INSTANCE;

    @Override
    public VersionMetrics version(String model, long version) {
      return this;
    }

    @Override
    public void loadFinished(String model, long version, long nanos, boolean success) {}

    @Override
    public void loadedModels(IntSupplier count) {}

    @Override
    public void request(Outcome outcome, long latencyNanos) {}

    @Override
    public void queueWait(long nanos) {}

    @Override
    public void batch(int rows, long engineNanos) {}

    @Override
    public void queueDepth(IntSupplier depth) {}

    @Override
    public void close() {}
  }
}
