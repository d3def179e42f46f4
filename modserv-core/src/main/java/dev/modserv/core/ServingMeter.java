package dev.modserv.core;

import java.util.Locale;

/**
 * The meters the server records through Micrometer, each with its one name ({@code
 * docs/metrics.md} lists the same, checked by a test). Prometheus names are derived from these by
 * Micrometer: dots become underscores, plus {@code _total} for counters, {@code _seconds} for
 * timers and the base unit where one is set.
 */
public enum ServingMeter {
  /** Requests finished, by {@code outcome}. */
  REQUESTS("modserv.requests", Type.COUNTER),
  /** Requests admitted and not finished yet. */
  REQUESTS_ACTIVE("modserv.requests.active", Type.GAUGE),
  /** Failed requests, by {@code model} and {@code code} (the {@code ErrorCode}). */
  ERRORS("modserv.errors", Type.COUNTER),
  /** End-to-end request latency, by {@code outcome}. */
  REQUEST_LATENCY("modserv.request.latency", Type.TIMER),
  /** Submission to the start of the engine call. */
  QUEUE_WAIT("modserv.queue.wait", Type.TIMER),
  /** Requests waiting for the engine. */
  QUEUE_DEPTH("modserv.queue.depth", Type.GAUGE),
  /** Rows per engine call. */
  BATCH_SIZE("modserv.batch.size", Type.DISTRIBUTION),
  /** Engine time per call. */
  INFERENCE_LATENCY("modserv.inference.latency", Type.TIMER),
  /** Versions ready to serve. */
  MODELS_LOADED("modserv.models.loaded", Type.GAUGE),
  /** 1 while a version is READY, else 0. */
  MODEL_LOADED("modserv.model.loaded", Type.GAUGE),
  /** 1 for a version's lifecycle {@code state}, 0 for the others. */
  MODEL_STATE("modserv.model.state", Type.GAUGE),
  /** Load start to ready or failure, by {@code outcome}. */
  MODEL_LOAD_DURATION("modserv.model.load.duration", Type.TIMER),
  /** Generations finished, by {@code finish_reason}. */
  GENERATIONS("modserv.generations", Type.COUNTER),
  /** Submission to the first generated token. */
  GENERATION_TTFT("modserv.generation.ttft", Type.TIMER),
  /** Time per output token after the first. */
  GENERATION_TPOT("modserv.generation.tpot", Type.TIMER),
  /** Tokens, by {@code kind} ({@code prompt} or {@code completion}). */
  GENERATION_TOKENS("modserv.generation.tokens", Type.COUNTER),
  /** Completion tokens per second of each generation. */
  GENERATION_TOKENS_PER_SECOND("modserv.generation.tokens.per.second", Type.DISTRIBUTION),
  /** Sequences generating now. */
  GENERATION_RUNNING("modserv.generation.running", Type.GAUGE),
  /** Generations waiting for a free sequence. */
  GENERATION_WAITING("modserv.generation.waiting", Type.GAUGE),
  /** Lookups a cache answered, by {@code cache} and {@code model}. */
  CACHE_HITS("modserv.cache.hits", Type.COUNTER),
  /** Lookups a cache could not answer, by {@code cache} and {@code model}. */
  CACHE_MISSES("modserv.cache.misses", Type.COUNTER),
  /** Entries a cache evicted to stay within its bound, by {@code cache} and {@code model}. */
  CACHE_EVICTIONS("modserv.cache.evictions", Type.COUNTER),
  /** Bytes a cache holds, by {@code cache} and {@code model}. */
  CACHE_SIZE("modserv.cache.size", Type.GAUGE);

  /** A meter's kind, as {@code docs/metrics.md} names it. */
  public enum Type {
    /** A Micrometer counter. */
    COUNTER,
    /** A Micrometer timer (a histogram of durations). */
    TIMER,
    /** A Micrometer gauge. */
    GAUGE,
    /** A Micrometer distribution summary. */
    DISTRIBUTION;

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * The service-level buckets of latency histograms, 1 ms to 60 s ({@code docs/metrics.md}); for
   * HTTP timers too, so that they line up with the model ones.
   */
  public static final java.util.List<java.time.Duration> LATENCY_BUCKETS = java.util.stream
      .DoubleStream.of(1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000,
          60_000)
      .mapToObj(ms -> java.time.Duration.ofNanos((long) (ms * 1e6))).toList();

  private final String meterName;
  private final Type type;

  ServingMeter(String meterName, Type type) {
    this.meterName = meterName;
    this.type = type;
  }

  /** Returns the Micrometer name, e.g. {@code modserv.request.latency}. */
  public String meterName() {
    return meterName;
  }

  /** Returns the meter's kind. */
  public Type type() {
    return type;
  }
}
