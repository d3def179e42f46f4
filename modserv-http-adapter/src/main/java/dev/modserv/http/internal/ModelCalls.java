package dev.modserv.http.internal;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.core.ModelProcessing;
import dev.modserv.core.ModelServer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Calls the model for a route and hands the result to the route's {@link Answer}.
 *
 * <p>Routes run on the thread that read the request (see {@link Router}). A model call stays on
 * that thread only when it cannot block it for long: no other call of this adapter to the same
 * model is in flight and the model's batching policy has no queue delay (so it forms its own batch
 * at once), the version it reaches is READY (no load to wait for), and the model's recent engine
 * time is under {@link #INLINE_LIMIT_NANOS}. A hand-off to another thread costs tens of microseconds on a
 * small machine, several times a small model's run (docs/performance.md). Every other call is
 * queued with {@link ModelServer#inferAsync}, and the thread goes back to serving connections
 * while concurrent requests form batches.
 */
public final class ModelCalls {
  /** Longest recent engine time (a moving average) that still runs on the I/O thread. */
  static final long INLINE_LIMIT_NANOS = 100_000;

  private final ModelServer server;
  private final ConcurrentHashMap<String, Lane> lanes = new ConcurrentHashMap<>();

  /** Calls {@code server}. */
  public ModelCalls(ModelServer server) {
    this.server = server;
  }

  /** One model's calls from this adapter. */
  private static final class Lane {
    final AtomicInteger inFlight = new AtomicInteger();
    /** Moving average of the engine's time per batch; unknown (so never inline) until measured. */
    volatile long engineNanos = Long.MAX_VALUE;

    void measured(InferenceResult result) {
      // Clamped, so that one slow call (a GC pause, a cold cache) moves the average by at most a
      // quarter of the limit: a model must be slow again and again to leave the I/O thread.
      long nanos = Math.min(result.timings().inference().toNanos(), 2 * INLINE_LIMIT_NANOS);
      long previous = engineNanos;
      engineNanos = previous == Long.MAX_VALUE ? nanos : previous - (previous >> 3) + (nanos >> 3);
    }
  }

  /** Writes a route's answer to a result. */
  @FunctionalInterface
  public interface Answer {
    /** Writes the answer to {@code result}. */
    void write(InferenceResult result) throws Exception;
  }

  /** Processing that gives neither part: the model's own applies. */
  private static final ModelProcessing MODELS_OWN = ModelProcessing.fromMaps(null, null);

  /**
   * Runs {@code request} with the model's processing and lets {@code answer} write the response,
   * or answers the error.
   */
  public void infer(Exchange ex, InferenceRequest request, Answer answer) throws Exception {
    infer(ex, request, MODELS_OWN, answer);
  }

  /**
   * Runs {@code request} with {@code processing} for this call (each part it gives replaces the
   * model's) and lets {@code answer} write the response, or answers the error.
   */
  public void infer(Exchange ex, InferenceRequest request, ModelProcessing processing,
      Answer answer) throws Exception {
    String model = request.model().name();
    ex.modelCalled();
    Lane lane = lanes.get(model);
    if (lane == null) {
      if (server.registry().versions(model).isEmpty()) {
        // Not loaded (an unknown name, or one to load on first use): the server answers, and no
        // lane is kept, so a client sending ever new names grows nothing here.
        inferAsync(ex, request, processing, answer, null);
        return;
      }
      lane = lanes.computeIfAbsent(model, name -> new Lane());
    }
    if (lane.engineNanos < INLINE_LIMIT_NANOS
        && server.registry().config(model).batching().maxQueueDelay().isZero()
        // A version that is not READY would make the call wait for a load.
        && server.registry().metadata(request.model()).isPresent()
        && lane.inFlight.compareAndSet(0, 1)) {
      InferenceResult result;
      try {
        result = server.infer(request, processing);
      } finally {
        lane.inFlight.decrementAndGet();
      }
      lane.measured(result);
      answer.write(result);
      return;
    }
    inferAsync(ex, request, processing, answer, lane);
  }

  /** Queues the call; {@code lane}, when there is one, counts it and learns its engine time. */
  private void inferAsync(Exchange ex, InferenceRequest request, ModelProcessing processing,
      Answer answer, @Nullable Lane lane) {
    if (lane != null) {
      lane.inFlight.incrementAndGet();
    }
    server.inferAsync(request, processing).whenComplete((result, failure) -> {
      if (lane != null) {
        lane.inFlight.decrementAndGet();
      }
      if (failure != null) {
        ex.fail(failure);
        return;
      }
      if (lane != null) {
        lane.measured(result);
      }
      try {
        answer.write(result);
      } catch (Exception e) {
        ex.fail(e);
      }
    });
  }
}
