package dev.modserv.http.internal;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.core.ModelProcessing;
import dev.modserv.core.ModelServer;
import dev.modserv.core.RoundEnd;
import java.util.concurrent.CompletableFuture;

/**
 * Calls the model for a route and hands the result to the route's {@link Answer}.
 *
 * <p>Routes run on the thread that read the request (see {@link Router}), and no call waits. On a
 * selector's thread the call is queued with the selector's round end ({@link RoundSelector}):
 * once the selector has read every connection that was ready, the round's calls go as one batch,
 * run on that thread when the engine is short, and every answer is written there. On any other
 * thread, {@link ModelServer#inferAsync} runs the batch here when the model is idle and the engine
 * short, and queues the call otherwise, to be answered on the thread that runs its batch (the
 * executor's, or a selector's). Answers are written without blocking, so that thread is never
 * held by a slow client.
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
    RoundEnd roundEnd = RoundSelector.current();
    CompletableFuture<InferenceResult> call = roundEnd == null
        ? server.inferAsync(request, processing)
        : server.inferAsync(request, processing, roundEnd);
    call.whenComplete((result, failure) -> {
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
