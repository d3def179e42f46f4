package dev.modserv.core.internal;

import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationTimings;
import dev.modserv.api.Usage;
import dev.modserv.core.ServingMeter;
import dev.modserv.core.ServingMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/** {@link ServingMetrics} over a Micrometer registry; meters are built once per version. */
public final class MicrometerServingMetrics implements ServingMetrics {
  private final MeterRegistry registry;
  // Gauges hold their state weakly: keep the suppliers reachable.
  private final List<IntSupplier> strongGaugeRefs = new java.util.concurrent.CopyOnWriteArrayList<>();

  public MicrometerServingMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public VersionMetrics version(String model, long version) {
    return new ForVersion(Tags.of("model", model, "version", Long.toString(version)));
  }

  @Override
  public void loadFinished(String model, long version, long nanos, boolean success) {
    Timer.builder(ServingMeter.MODEL_LOAD_DURATION.meterName())
        .description("Time from load start to ready or failure")
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
  public void embeddingCache(String model, EmbeddingCacheCounts counts) {
    Tags tags = Tags.of("model", model);
    FunctionCounter.builder(ServingMeter.EMBEDDING_CACHE_HITS.meterName(), counts,
        EmbeddingCacheCounts::hits).description("Texts served from the embedding cache")
        .tags(tags).register(registry);
    FunctionCounter.builder(ServingMeter.EMBEDDING_CACHE_MISSES.meterName(), counts,
        EmbeddingCacheCounts::misses).description("Texts the model ran, not in the embedding cache")
        .tags(tags).register(registry);
    FunctionCounter.builder(ServingMeter.EMBEDDING_CACHE_EVICTIONS.meterName(), counts,
        EmbeddingCacheCounts::evictions)
        .description("Embedding cache entries dropped to stay within the bound")
        .tags(tags).register(registry);
    Gauge.builder(ServingMeter.EMBEDDING_CACHE_SIZE.meterName(), counts,
        EmbeddingCacheCounts::bytes).description("Bytes the embedding cache holds")
        .baseUnit("bytes").tags(tags).strongReference(true).register(registry);
  }

  private final class ForVersion implements VersionMetrics {
    private final Tags tags;
    private final Counter[] requests = new Counter[Outcome.values().length];
    private final Timer[] latency = new Timer[Outcome.values().length];
    private final Timer queueWait;
    private final DistributionSummary batchSize;
    private final Timer inference;
    private final List<Meter> meters = new ArrayList<>();
    private volatile IntSupplier depth = () -> 0;
    private volatile IntSupplier running = () -> 0;
    private volatile IntSupplier waiting = () -> 0;
    private final Counter[] generations = new Counter[FinishReason.values().length];
    private final Timer ttft;
    private final Timer tpot;
    private final Counter promptTokens;
    private final Counter completionTokens;
    private final DistributionSummary tokensPerSecond;

    ForVersion(Tags tags) {
      this.tags = tags;
      for (Outcome outcome : Outcome.values()) {
        Tags withOutcome = tags.and("outcome", outcome.tag());
        requests[outcome.ordinal()] = (keep(Counter.builder(ServingMeter.REQUESTS.meterName())
            .description("Requests finished, by outcome").tags(withOutcome).register(registry)));
        latency[outcome.ordinal()] = (keep(Timer.builder(ServingMeter.REQUEST_LATENCY.meterName())
            .description("End-to-end request latency").tags(withOutcome).register(registry)));
      }
      queueWait = keep(Timer.builder(ServingMeter.QUEUE_WAIT.meterName())
          .description("Time from submission to the start of the engine call")
          .tags(tags).register(registry));
      batchSize = keep(DistributionSummary.builder(ServingMeter.BATCH_SIZE.meterName())
          .description("Rows per engine call").baseUnit("rows").tags(tags).register(registry));
      inference = keep(Timer.builder(ServingMeter.INFERENCE_LATENCY.meterName())
          .description("Engine time per batch").tags(tags).register(registry));
      keep(Gauge.builder(ServingMeter.QUEUE_DEPTH.meterName(), this, v -> v.depth.getAsInt())
          .description("Requests waiting for the engine").tags(tags).register(registry));
      for (FinishReason reason : FinishReason.values()) {
        generations[reason.ordinal()] = keep(Counter.builder(ServingMeter.GENERATIONS.meterName())
            .description("Generations finished, by finish reason")
            .tags(tags.and("finish_reason", reason.tag())).register(registry));
      }
      ttft = keep(Timer.builder(ServingMeter.GENERATION_TTFT.meterName())
          .description("Time from submission to the first generated token")
          .tags(tags).register(registry));
      tpot = keep(Timer.builder(ServingMeter.GENERATION_TPOT.meterName())
          .description("Time per output token after the first")
          .tags(tags).register(registry));
      promptTokens = keep(Counter.builder(ServingMeter.GENERATION_TOKENS.meterName())
          .description("Tokens processed, by kind").baseUnit("tokens")
          .tags(tags.and("kind", "prompt")).register(registry));
      completionTokens = keep(Counter.builder(ServingMeter.GENERATION_TOKENS.meterName())
          .description("Tokens processed, by kind").baseUnit("tokens")
          .tags(tags.and("kind", "completion")).register(registry));
      tokensPerSecond = keep(DistributionSummary
          .builder(ServingMeter.GENERATION_TOKENS_PER_SECOND.meterName())
          .description("Completion tokens per second of each generation").baseUnit("tokens")
          .tags(tags).register(registry));
      keep(Gauge.builder(ServingMeter.GENERATION_RUNNING.meterName(), this,
              v -> v.running.getAsInt())
          .description("Generation sequences running").tags(tags).register(registry));
      keep(Gauge.builder(ServingMeter.GENERATION_WAITING.meterName(), this,
              v -> v.waiting.getAsInt())
          .description("Generations waiting for a sequence").tags(tags).register(registry));
    }

    @Override
    public void generation(FinishReason reason, Usage usage, GenerationTimings timings) {
      generations[reason.ordinal()].increment();
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

    @Override
    public void generationSequences(IntSupplier running, IntSupplier waiting) {
      this.running = running;
      this.waiting = waiting;
    }

    private <M extends Meter> M keep(M meter) {
      meters.add(meter);
      return meter;
    }

    @Override
    public void request(Outcome outcome, long latencyNanos) {
      requests[outcome.ordinal()].increment();
      latency[outcome.ordinal()].record(latencyNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void queueWait(long nanos) {
      queueWait.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void batch(int rows, long engineNanos) {
      batchSize.record(rows);
      inference.record(engineNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void queueDepth(IntSupplier depth) {
      this.depth = depth;
    }

    @Override
    public void close() {
      meters.forEach(registry::remove);
    }

    @Override
    public String toString() {
      return "VersionMetrics" + tags;
    }
  }
}
