package dev.modserv.spi;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * For engine authors: counts runs in progress so that a {@link LoadedModel} frees its native
 * handle only after the last run returned, exactly once, and refuses runs after that. A model
 * server already closes a model only after its drain; this gate keeps direct users of an engine
 * safe too (some runtimes' own close does not wait for runs, others crash when used after close).
 *
 * <pre>{@code
 * gate.enter();
 * try { ... run on the native handle ... } finally { gate.exit(); }
 * ...
 * public void close() { if (gate.closeAndAwait()) handle.close(); }
 * }</pre>
 */
public final class RunGate {
  private final AtomicInteger active = new AtomicInteger();
  private volatile boolean closed;

  /** Creates an open gate. */
  public RunGate() {}

  /**
   * Enters a run.
   *
   * @throws IllegalStateException when the model is closed
   */
  public void enter() {
    active.incrementAndGet();
    if (closed) {
      active.decrementAndGet();
      throw new IllegalStateException("the model is closed");
    }
  }

  /** Leaves a run entered with {@link #enter()}. */
  public void exit() {
    active.decrementAndGet();
  }

  /**
   * Refuses new runs and waits for those in progress. Returns true to exactly one caller, the one
   * that must free the native handle; false when the gate was already closed.
   */
  public synchronized boolean closeAndAwait() {
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
