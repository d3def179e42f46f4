package dev.modserv.core.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationTimings;
import dev.modserv.api.Usage;
import dev.modserv.core.ModelState;
import dev.modserv.core.ServingMeter;
import dev.modserv.core.ServingMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * {@link ServingMetrics} over a Micrometer registry. The meters of a model version are built once
 * per process and kept when the version unloads, so that a version loaded again keeps counting
 * (a counter that restarts breaks every {@code rate()}); its gauges then read as unloaded. Meters
 * of what a model cannot do are never registered: the queue and batch meters come with a model
 * that takes tensors or embeds, the generation meters with one that generates.
 *
 * <p>Latency-like meters are histograms with fixed service-level buckets ({@code
 * docs/metrics.md}), so that quantiles aggregate across replicas and windows.
 */
public final class MicrometerServingMetrics implements ServingMetrics {
  /** Buckets of end-to-end and engine latency: 1 ms to 60 s. */
  public static final List<Duration> LATENCY_BUCKETS = ServingMeter.LATENCY_BUCKETS;
  /** Buckets of queue wait: 0.1 ms to 10 s. */
  public static final List<Duration> QUEUE_BUCKETS = millis(0.1, 0.5, 1, 2.5, 5, 10, 25, 50, 100,
      250, 500, 1000, 2500, 10_000);
  /** Buckets of time to first token: 10 ms to 60 s. */
  public static final List<Duration> TTFT_BUCKETS = millis(10, 25, 50, 100, 250, 500, 1000, 2500,
      5000, 10_000, 30_000, 60_000);
  /** Buckets of time per output token: 1 ms to 2 s. */
  public static final List<Duration> TPOT_BUCKETS = millis(1, 5, 10, 20, 40, 60, 80, 100, 150,
      200, 300, 500, 1000, 2000);
  /** Buckets of model load time: 100 ms to 10 min. */
  public static final List<Duration> LOAD_BUCKETS = millis(100, 500, 1000, 2500, 5000, 10_000,
      30_000, 60_000, 120_000, 300_000, 600_000);
  /** Buckets of rows per engine call. */
  public static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  /** Buckets of completion tokens per second. */
  public static final double[] TOKENS_PER_SECOND_BUCKETS = {1, 2, 5, 10, 20, 50, 100, 200, 500,
      1000, 2000};

  private final MeterRegistry registry;
  private final ConcurrentHashMap<Tags, Version> versions = new ConcurrentHashMap<>();
  /** Each model's error counters, by error code: found without building a key per request. */
  private final ConcurrentHashMap<String, AtomicReferenceArray<Counter>> errors =
      new ConcurrentHashMap<>();
  // Gauges hold their state weakly: keep the suppliers reachable.
  private final List<Object> strongGaugeRefs = new java.util.concurrent.CopyOnWriteArrayList<>();

  public MicrometerServingMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  private static List<Duration> millis(double... ms) {
    return java.util.Arrays.stream(ms).mapToObj(m -> Duration.ofNanos((long) (m * 1e6))).toList();
  }

  static Timer.Builder timer(ServingMeter meter, String description, List<Duration> buckets) {
    return Timer.builder(meter.meterName()).description(description)
        .serviceLevelObjectives(buckets.toArray(Duration[]::new));
  }

  @Override
  public VersionMetrics version(String model, long version) {
    return versions.computeIfAbsent(Tags.of("model", model, "version", Long.toString(version)),
        Version::new).open();
  }

  @Override
  public void loadFinished(String model, long version, long nanos, boolean success) {
    timer(ServingMeter.MODEL_LOAD_DURATION, "Time from load start to ready or failure",
        LOAD_BUCKETS)
        .tags("model", model, "version", Long.toString(version))
        .tag("outcome", success ? "success" : "error")
        .register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void loadedModels(IntSupplier count) {
    strongGaugeRefs.add(count);
    Gauge.builder(ServingMeter.MODELS_LOADED.meterName(), count, IntSupplier::getAsInt)
        .description("Model versions ready to serve")
        .register(registry);
  }

  @Override
  public void error(String model, ErrorCode code) {
    AtomicReferenceArray<Counter> byCode = errors.get(model);
    if (byCode == null) {
      byCode = errors.computeIfAbsent(model,
          m -> new AtomicReferenceArray<>(ErrorCode.values().length));
    }
    Counter c = byCode.get(code.ordinal());
    if (c == null) {
      // Registering the same meter twice returns the first: a race here is harmless.
      c = Counter.builder(ServingMeter.ERRORS.meterName())
          .description("Failed requests, by error code")
          .tags("model", model, "code", code.name()).register(registry);
      byCode.set(code.ordinal(), c);
    }
    c.increment();
  }

  @Override
  public CacheMetrics cache(String cache, String model) {
    Tags tags = Tags.of("cache", cache, "model", model);
    Counter hits = Counter.builder(ServingMeter.CACHE_HITS.meterName())
        .description("Lookups the cache answered").tags(tags).register(registry);
    Counter misses = Counter.builder(ServingMeter.CACHE_MISSES.meterName())
        .description("Lookups the cache could not answer").tags(tags).register(registry);
    Counter evictions = Counter.builder(ServingMeter.CACHE_EVICTIONS.meterName())
        .description("Entries evicted to stay within the bound").tags(tags).register(registry);
    return new CacheMetrics() {
      @Override
      public void hits(long count) {
        hits.increment(count);
      }

      @Override
      public void misses(long count) {
        misses.increment(count);
      }

      @Override
      public void evictions(long count) {
        evictions.increment(count);
      }

      @Override
      public void size(LongSupplier bytes) {
        strongGaugeRefs.add(bytes);
        Gauge.builder(ServingMeter.CACHE_SIZE.meterName(), bytes, LongSupplier::getAsLong)
            .description("Bytes the cache holds").baseUnit("bytes").tags(tags)
            .register(registry);
      }
    };
  }

  /**
   * The meters of one model version, for the life of the process. Gauges read the {@link Load}
   * in service; a load that ends leaves them reading "unloaded" unless a newer one took over.
   */
  private final class Version {
    private final Tags tags;
    private final Counter[] requests = new Counter[Outcome.values().length];
    private final Timer[] latency = new Timer[Outcome.values().length];
    private final java.util.concurrent.atomic.AtomicReference<Load> current =
        new java.util.concurrent.atomic.AtomicReference<>();
    private volatile @Nullable Batches batches;
    private volatile @Nullable Generations generations;
    private boolean generationGauges;

    Version(Tags tags) {
      this.tags = tags;
      current.set(new Load(this));
      for (Outcome outcome : Outcome.values()) {
        Tags withOutcome = tags.and("outcome", outcome.tag());
        requests[outcome.ordinal()] = Counter.builder(ServingMeter.REQUESTS.meterName())
            .description("Requests finished, by outcome").tags(withOutcome).register(registry);
        latency[outcome.ordinal()] = timer(ServingMeter.REQUEST_LATENCY,
            "End-to-end request latency", LATENCY_BUCKETS).tags(withOutcome).register(registry);
      }
      Gauge.builder(ServingMeter.REQUESTS_ACTIVE.meterName(), this,
              v -> v.current.get().active.getAsInt())
          .description("Requests admitted and not finished").tags(tags).register(registry);
      Gauge.builder(ServingMeter.MODEL_LOADED.meterName(), this,
              v -> v.current.get().state.get() == ModelState.READY ? 1 : 0)
          .description("1 while the version is READY, else 0").tags(tags).register(registry);
      for (ModelState s : ModelState.values()) {
        Gauge.builder(ServingMeter.MODEL_STATE.meterName(), this,
                v -> v.current.get().state.get() == s ? 1 : 0)
            .description("1 for the version's lifecycle state, 0 for the others")
            .tags(tags.and("state", s.name().toLowerCase(java.util.Locale.ROOT)))
            .register(registry);
      }
    }

    /** Starts a new load of this version: its counters count on. */
    Load open() {
      Load load = new Load(this);
      load.state = () -> ModelState.LOADING;
      current.set(load);
      return load;
    }

    Batches batches() {
      Batches b = batches;
      if (b == null) {
        synchronized (this) {
          b = batches;
          if (b == null) {
            b = new Batches(this);
            batches = b;
          }
        }
      }
      return b;
    }

    Generations generations() {
      Generations g = generations;
      if (g == null) {
        synchronized (this) {
          g = generations;
          if (g == null) {
            g = new Generations(tags);
            generations = g;
          }
        }
      }
      return g;
    }

    synchronized void generationGauges() {
      if (!generationGauges) {
        generationGauges = true;
        Gauge.builder(ServingMeter.GENERATION_RUNNING.meterName(), this,
                v -> v.current.get().running.getAsInt())
            .description("Generation sequences running").tags(tags).register(registry);
        Gauge.builder(ServingMeter.GENERATION_WAITING.meterName(), this,
                v -> v.current.get().waiting.getAsInt())
            .description("Generations waiting for a sequence").tags(tags).register(registry);
      }
    }
  }

  private static final IntSupplier ZERO = () -> 0;

  /** One load of a version: records into the version's meters, binds what its gauges read. */
  private static final class Load implements VersionMetrics {
    private final Version version;
    volatile IntSupplier depth = ZERO;
    volatile IntSupplier active = ZERO;
    volatile IntSupplier running = ZERO;
    volatile IntSupplier waiting = ZERO;
    volatile Supplier<ModelState> state = () -> ModelState.UNLOADED;

    Load(Version version) {
      this.version = version;
    }

    @Override
    public void request(Outcome outcome, long latencyNanos) {
      version.requests[outcome.ordinal()].increment();
      version.latency[outcome.ordinal()].record(latencyNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void queueWait(long nanos) {
      version.batches().queueWait.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void batch(int rows, long engineNanos) {
      Batches b = version.batches();
      b.size.record(rows);
      b.inference.record(engineNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void queueDepth(IntSupplier depth) {
      this.depth = depth;
      version.batches();   // a model that runs batches has their meters from its load on
    }

    @Override
    public void active(IntSupplier inFlight) {
      this.active = inFlight;
    }

    @Override
    public void state(Supplier<ModelState> state) {
      this.state = state;
    }

    @Override
    public void generation(FinishReason reason, Usage usage, GenerationTimings timings) {
      version.generations().record(reason, usage, timings);
    }

    @Override
    public void generationSequences(IntSupplier running, IntSupplier waiting) {
      this.running = running;
      this.waiting = waiting;
      version.generations();
      version.generationGauges();
    }

    @Override
    public void close() {
      // A newer load of the same version may already be in service: leave its gauges alone.
      version.current.compareAndSet(this, new Load(version));
    }

    @Override
    public String toString() {
      return "VersionMetrics" + version.tags;
    }
  }

  /** The queue and engine meters of a version that ran a batch. */
  private final class Batches {
    final Timer queueWait;
    final DistributionSummary size;
    final Timer inference;

    Batches(Version v) {
      queueWait = timer(ServingMeter.QUEUE_WAIT,
          "Time from submission to the start of the engine call", QUEUE_BUCKETS)
          .tags(v.tags).register(registry);
      size = DistributionSummary.builder(ServingMeter.BATCH_SIZE.meterName())
          .description("Rows per engine call").baseUnit("rows")
          .serviceLevelObjectives(BATCH_BUCKETS).tags(v.tags).register(registry);
      inference = timer(ServingMeter.INFERENCE_LATENCY, "Engine time per batch", LATENCY_BUCKETS)
          .tags(v.tags).register(registry);
      Gauge.builder(ServingMeter.QUEUE_DEPTH.meterName(), v,
              x -> x.current.get().depth.getAsInt())
          .description("Requests waiting for the engine").tags(v.tags).register(registry);
    }
  }

  /** The generation meters of a version that generated. */
  private final class Generations {
    private final Counter[] finished = new Counter[FinishReason.values().length];
    private final Timer ttft;
    private final Timer tpot;
    private final Counter promptTokens;
    private final Counter completionTokens;
    private final DistributionSummary tokensPerSecond;

    Generations(Tags tags) {
      for (FinishReason reason : FinishReason.values()) {
        finished[reason.ordinal()] = Counter.builder(ServingMeter.GENERATIONS.meterName())
            .description("Generations finished, by finish reason")
            .tags(tags.and("finish_reason", reason.tag())).register(registry);
      }
      ttft = timer(ServingMeter.GENERATION_TTFT,
          "Time from submission to the first generated token", TTFT_BUCKETS)
          .tags(tags).register(registry);
      tpot = timer(ServingMeter.GENERATION_TPOT, "Time per output token after the first",
          TPOT_BUCKETS).tags(tags).register(registry);
      promptTokens = Counter.builder(ServingMeter.GENERATION_TOKENS.meterName())
          .description("Tokens processed, by kind")
          .tags(tags.and("kind", "prompt")).register(registry);
      completionTokens = Counter.builder(ServingMeter.GENERATION_TOKENS.meterName())
          .description("Tokens processed, by kind")
          .tags(tags.and("kind", "completion")).register(registry);
      // No base unit: "per second" already says it, Prometheus would add "_tokens" after it.
      tokensPerSecond = DistributionSummary
          .builder(ServingMeter.GENERATION_TOKENS_PER_SECOND.meterName())
          .description("Completion tokens per second of each generation")
          .serviceLevelObjectives(TOKENS_PER_SECOND_BUCKETS).tags(tags).register(registry);
    }

    void record(FinishReason reason, Usage usage, GenerationTimings timings) {
      finished[reason.ordinal()].increment();
      promptTokens.increment(usage.promptTokens());
      completionTokens.increment(usage.completionTokens());
      if (usage.completionTokens() > 0) {
        ttft.record(timings.timeToFirstTokenNanos(), TimeUnit.NANOSECONDS);
      }
      if (usage.completionTokens() > 1) {
        tpot.record(timings.generationNanos() / (usage.completionTokens() - 1),
            TimeUnit.NANOSECONDS);
        tokensPerSecond.record(timings.tokensPerSecond(usage.completionTokens()));
      }
    }
  }
}
