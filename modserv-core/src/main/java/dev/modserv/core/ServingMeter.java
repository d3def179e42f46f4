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
  /** Texts served from the embedding cache, per model. */
  EMBEDDING_CACHE_HITS("modserv.embedding.cache.hits", Type.COUNTER),
  /** Texts an embedding model ran because its cache did not hold them, per model. */
  EMBEDDING_CACHE_MISSES("modserv.embedding.cache.misses", Type.COUNTER),
  /** Embedding cache entries dropped to stay within the bound, per model. */
  EMBEDDING_CACHE_EVICTIONS("modserv.embedding.cache.evictions", Type.COUNTER),
  /** Bytes the embedding cache holds, per model. */
  EMBEDDING_CACHE_SIZE("modserv.embedding.cache.size", Type.GAUGE);

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
