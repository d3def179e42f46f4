package dev.modserv.core.internal;

import dev.modserv.api.FinishReason;
import dev.modserv.core.ServingMetrics.Outcome;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.jspecify.annotations.Nullable;

/**
 * The Micrometer Observations of the request path ({@code docs/tracing.md}): for each request a
 * {@value #QUEUE} (submission to the start of its engine call) and a {@value #BATCH} (the engine
 * call it ran in), for each generation a {@value #GENERATION}; each a child of the observation
 * current where the request was submitted (the HTTP adapter's request), so that a tracing bridge
 * makes them spans of the caller's trace. With no registry, or a no-op one, nothing is created.
 */
public final class Tracing {
  /** Submission to the start of the engine call. */
  public static final String QUEUE = "modserv.queue";
  /** One engine call, seen from one of its requests. */
  public static final String BATCH = "modserv.batch";
  /** One generation, submission to its end. */
  public static final String GENERATION = "modserv.generation";

  static final Tracing OFF = new Tracing(ObservationRegistry.NOOP);

  private final ObservationRegistry registry;
  private final boolean on;

  Tracing(ObservationRegistry registry) {
    this.registry = registry;
    this.on = !registry.isNoop();
  }

  /** Returns tracing into {@code registry}. */
  public static Tracing of(ObservationRegistry registry) {
    return registry.isNoop() ? OFF : new Tracing(registry);
  }

  /** The observation in scope on this thread: the parent of what a request submitted now makes. */
  @Nullable Observation parent() {
    return on ? registry.getCurrentObservation() : null;
  }

  /** Starts the queue observation of a request; null when tracing is off. */
  @Nullable CallSpans call(String model, long version, @Nullable Observation parent) {
    if (!on) {
      return null;
    }
    return new CallSpans(start(QUEUE, model, parent).lowCardinalityKeyValue("version",
        Long.toString(version)), model, version, parent);
  }

  /** Starts the observation of a generation; null when tracing is off. */
  @Nullable GenerationSpan generation(String model, @Nullable Observation parent) {
    return on ? new GenerationSpan(start(GENERATION, model, parent)) : null;
  }

  private Observation start(String name, String model, @Nullable Observation parent) {
    return Observation.createNotStarted(name, registry).parentObservation(parent)
        .lowCardinalityKeyValue("model", model).start();
  }

  /** The queue, then batch, observation of one request. */
  final class CallSpans {
    private final Observation queue;
    private final String model;
    private final long version;
    private final @Nullable Observation parent;
    private volatile @Nullable Observation batch;

    CallSpans(Observation queue, String model, long version, @Nullable Observation parent) {
      this.queue = queue;
      this.model = model;
      this.version = version;
      this.parent = parent;
    }

    /** Its engine call starts: {@code requests} requests of {@code rows} rows in all. */
    void running(int requests, long rows) {
      queue.stop();
      batch = start(BATCH, model, parent).lowCardinalityKeyValue("version", Long.toString(version))
          .highCardinalityKeyValue("batch.requests", Integer.toString(requests))
          .highCardinalityKeyValue("batch.rows", Long.toString(rows));
    }

    /** The request ended with {@code outcome}. */
    void done(Outcome outcome, @Nullable Throwable error) {
      Observation running = batch;
      Observation last = running != null ? running : queue;
      last.lowCardinalityKeyValue("outcome", outcome.tag());
      if (error != null) {
        last.error(error);
      }
      last.stop();
    }
  }

  /** The observation of one generation. */
  static final class GenerationSpan {
    private final Observation observation;

    GenerationSpan(Observation observation) {
      this.observation = observation;
    }

    void version(long version) {
      observation.lowCardinalityKeyValue("version", Long.toString(version));
    }

    void done(FinishReason reason, int promptTokens, int completionTokens,
        @Nullable Throwable error) {
      observation.lowCardinalityKeyValue("finish_reason", reason.tag())
          .highCardinalityKeyValue("tokens.prompt", Integer.toString(promptTokens))
          .highCardinalityKeyValue("tokens.completion", Integer.toString(completionTokens));
      if (error != null) {
        observation.error(error);
      }
      observation.stop();
    }
  }
}
