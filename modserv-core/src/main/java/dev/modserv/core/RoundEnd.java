package dev.modserv.core;

/**
 * The end of an event loop's round: the point where a thread that serves many connections (a
 * selector's) has read every connection that was ready, and before it waits for more.
 *
 * <p>{@link ModelServer#inferAsync(dev.modserv.api.InferenceRequest, ModelProcessing, RoundEnd)}
 * leaves the queueing and batching of a call to it: at the round's end the batcher queues the
 * round's requests, forms them into one batch and, when the engine is short, runs it on the loop's
 * own thread, so that the requests are read, run and answered with no thread hand-off, as a
 * handler that answers at once would be.
 */
@FunctionalInterface
public interface RoundEnd {
  /**
   * Runs {@code task} on the loop's thread at the end of its current round (or of the next, when
   * called from another thread or while a round's end runs), after the tasks given before it. The
   * same task, by identity, given again before then runs once, in the place of the last giving.
   * Safe to call from any thread.
   */
  void runAtEnd(Runnable task);
}
