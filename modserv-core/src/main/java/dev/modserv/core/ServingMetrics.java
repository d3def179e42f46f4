package dev.modserv.core;

import dev.modserv.core.internal.MicrometerServingMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

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
   * Returns the recorder of one of {@code model}'s caches, {@code cache} naming which (the
   * response cache is {@code response}); called once per cache and model, the first time the
   * cache serves the model. Defaults to one that records nothing.
   */
  default CacheMetrics cache(String cache, String model) {
    return Noop.INSTANCE;
  }

  /**
   * Records a request to {@code model} that failed with {@code code}, whichever version (if any)
   * it reached: a model not found counts too. Defaults to nothing.
   */
  default void error(String model, dev.modserv.api.ErrorCode code) {}

  /** Records for one cache of one model (every version together). */
  interface CacheMetrics {
    /** Records {@code count} lookups answered from the cache. */
    void hits(long count);

    /** Records {@code count} lookups the cache could not answer. */
    void misses(long count);

    /** Records {@code count} entries the cache evicted to stay within its bound. */
    void evictions(long count);

    /** Binds the gauge of the bytes the cache holds for the model. */
    void size(LongSupplier bytes);
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
     * Binds the gauge of this version's requests in flight (admitted, not finished); called once
     * when the version is created. Defaults to nothing.
     */
    default void active(IntSupplier inFlight) {}

    /**
     * Binds the gauges of this version's lifecycle state; called once when the version is
     * created. Defaults to nothing.
     */
    default void state(java.util.function.Supplier<ModelState> state) {}

    /**
     * Records a finished generation: its tokens, time to first token, time per output token and
     * tokens per second. Defaults to nothing.
     */
    default void generation(dev.modserv.api.FinishReason reason, dev.modserv.api.Usage usage,
        dev.modserv.api.GenerationTimings timings) {}

    /** Binds the gauges of running and waiting generation sequences. Defaults to nothing. */
    default void generationSequences(IntSupplier running, IntSupplier waiting) {}

    /**
     * Called once when the version unloads: its gauges read as unloaded from then on; a recorder
     * may keep its counters, so that a version loaded again keeps counting.
     */
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
  enum Noop implements ServingMetrics, VersionMetrics, CacheMetrics {
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

    @Override
    public void hits(long count) {}

    @Override
    public void misses(long count) {}

    @Override
    public void evictions(long count) {}

    @Override
    public void size(LongSupplier bytes) {}
  }
}
