package dev.modserv.core.internal;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One accepted request on its way to the engine. It moves from queued to running to done, or
 * from queued straight to done (timed out, or failed by a drain), or from running to answered
 * (its deadline passed while its batch ran: it was answered TIMEOUT, and still holds its lease
 * until the engine returns) to done, by compare-and-set, so that it runs at most once and
 * completes exactly once.
 */
final class Call {
  private static final int QUEUED = 0;
  private static final int RUNNING = 1;
  private static final int ANSWERED = 2;
  private static final int DONE = 3;

  final InferenceRequest request;
  final long submittedNanos;
  final long deadlineNanos;
  final long rows;
  final int level;
  final CompletableFuture<InferenceResult> future = new CompletableFuture<>();
  /** Releases what the call holds (its lease on the model version); run once, when done. */
  final Runnable release;
  private final AtomicInteger stage = new AtomicInteger(QUEUED);
  volatile @Nullable Future<?> timeoutTask;
  /** Its queue and batch observations; null when tracing is off. */
  volatile Tracing.@Nullable CallSpans spans;
  /** The batch this call runs in; set when it is taken off the queue. */
  volatile Batcher.@Nullable Running running;

  Call(InferenceRequest request, long submittedNanos, long deadlineNanos, int level,
      Runnable release) {
    this.request = request;
    this.submittedNanos = submittedNanos;
    this.deadlineNanos = deadlineNanos;
    this.rows = request.rows();
    this.level = level;
    this.release = release;
  }

  boolean hasDeadline() {
    return deadlineNanos != Long.MAX_VALUE;
  }

  /** Claims the call for running; false when it already timed out or was failed. */
  boolean start() {
    return stage.compareAndSet(QUEUED, RUNNING);
  }

  /** Claims a queued call for failing it without running it. */
  boolean abandon() {
    return stage.compareAndSet(QUEUED, DONE);
  }

  /** Claims a running call for answering it at its deadline, before its batch returns. */
  boolean answerEarly() {
    return stage.compareAndSet(RUNNING, ANSWERED);
  }

  /**
   * Marks a running call done once its batch returned and cancels its timeout. Returns true when
   * the caller still waits for the answer, false when the call was answered at its deadline.
   */
  boolean finished() {
    boolean waiting = stage.getAndSet(DONE) == RUNNING;
    Future<?> t = timeoutTask;
    if (t != null) {
      t.cancel(false);
    }
    return waiting;
  }
}
