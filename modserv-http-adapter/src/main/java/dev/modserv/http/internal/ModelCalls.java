package dev.modserv.http.internal;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.core.ModelProcessing;
import dev.modserv.core.ModelServer;

/**
 * Calls the model for a route and hands the result to the route's {@link Answer}.
 *
 * <p>Routes run on the thread that read the request (see {@link Router}), and every call goes
 * through {@link ModelServer#inferAsync}, which never waits. When the model is idle (no other
 * call running or queued) and its recent engine time is short, the core runs the batch on this thread and the answer
 * is written here at once: a hand-off to another thread costs tens of microseconds on a small
 * machine, several times a small model's run (docs/performance.md). Otherwise the call is queued,
 * this thread goes back to serving connections while concurrent requests form batches, and the
 * answer is written on the thread that ran the batch (the executor's, or another I/O thread that
 * ran a short batch holding this call). Answers are written without blocking, so that thread is
 * never held by a slow client.
 */
public final class ModelCalls {
  private final ModelServer server;

  /** Calls {@code server}. */
  public ModelCalls(ModelServer server) {
    this.server = server;
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
    ex.modelCalled();
    server.inferAsync(request, processing).whenComplete((result, failure) -> {
      if (failure != null) {
        ex.fail(failure);
        return;
      }
      try {
        answer.write(result);
      } catch (Exception e) {
        ex.fail(e);
      }
    });
  }
}
