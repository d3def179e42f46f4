package dev.modserv.tensorflow.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Counts runs in progress so that a model is closed only after the last one returned, and refuses
 * runs after close (a TensorFlow session used after close is a native crash, not an exception).
 */
final class RunGuard {
  private final AtomicInteger active = new AtomicInteger();
  private volatile boolean closed;

  /** Enters a run; throws when the model is closed. */
  void enter() {
    active.incrementAndGet();
    if (closed) {
      active.decrementAndGet();
      throw new IllegalStateException("the model is closed");
    }
  }

  /** Leaves a run. */
  void exit() {
    active.decrementAndGet();
  }

  /** Refuses new runs and waits for those in progress; returns false when already closed. */
  synchronized boolean closeAndAwait() {
    if (closed) {
      return false;
    }
    closed = true;
    while (active.get() > 0) {
      LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
    }
    return true;
  }
}
