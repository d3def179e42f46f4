package dev.modserv.core.internal;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One accepted request on its way to the engine. It moves from pending to running to done, or
 * from pending straight to done (timed out, or failed by a drain), by compare-and-set, so it runs
 * at most once and completes exactly once.
 */
final class Call {
  private static final int PENDING = 0;
  private static final int RUNNING = 1;
  private static final int DONE = 2;

  final InferenceRequest request;
  final ModelVersion version;
  final long submittedNanos;
  final long deadlineNanos;
  final CompletableFuture<InferenceResult> future = new CompletableFuture<>();
  private final AtomicInteger stage = new AtomicInteger(PENDING);
  volatile @Nullable Future<?> timeoutTask;

  Call(InferenceRequest request, ModelVersion version, long submittedNanos, long deadlineNanos) {
    this.request = request;
    this.version = version;
    this.submittedNanos = submittedNanos;
    this.deadlineNanos = deadlineNanos;
  }

  /** Claims the call for running; false when it already timed out or was failed. */
  boolean start() {
    return stage.compareAndSet(PENDING, RUNNING);
  }

  /** Claims a pending call for failing without running it. */
  boolean abandon() {
    return stage.compareAndSet(PENDING, DONE);
  }

  void finished() {
    stage.set(DONE);
    Future<?> t = timeoutTask;
    if (t != null) {
      t.cancel(false);
    }
  }
}
