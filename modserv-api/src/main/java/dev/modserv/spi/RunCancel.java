package dev.modserv.spi;

import java.util.ArrayList;
import java.util.List;

/**
 * Tells an engine that nobody waits for a batch any longer: every request in it passed its
 * deadline and was answered {@code TIMEOUT}. The server cancels it; an engine that can stop a run
 * early (ONNX Runtime's terminate flag, a generation's cancel) registers what stops it with {@link
 * #onCancel} and may check {@link #isCancelled()} between steps (after tokenizing, before running
 * the graph). An engine that ignores it is still correct: the requests were answered at their
 * deadline, and the model instance is free again when its run returns.
 */
public final class RunCancel {
  /** For runs nobody can cancel (no request in the batch has a deadline). */
  public static final RunCancel NEVER = new RunCancel(false);

  private final boolean cancellable;
  private final List<Runnable> actions = new ArrayList<>(1);
  private boolean cancelled;

  /** Creates a signal the server may cancel. */
  public RunCancel() {
    this(true);
  }

  private RunCancel(boolean cancellable) {
    this.cancellable = cancellable;
  }

  /**
   * Returns whether this run can be cancelled at all; when false, an engine need not prepare
   * anything to stop it (for ONNX Runtime, no {@code RunOptions}).
   */
  public boolean cancellable() {
    return cancellable;
  }

  /** Returns whether the run was cancelled. */
  public synchronized boolean isCancelled() {
    return cancelled;
  }

  /**
   * Runs {@code action} once when the run is cancelled, at once when it already was. The action
   * runs on the server's timer thread: it must only set a flag or signal, never block, and must be
   * safe to run after the run returned.
   */
  public void onCancel(Runnable action) {
    if (!cancellable) {
      return;
    }
    synchronized (this) {
      if (!cancelled) {
        actions.add(action);
        return;
      }
    }
    action.run();
  }

  /** Cancels the run (for the server): runs each registered action once. */
  public void cancel() {
    List<Runnable> toRun;
    synchronized (this) {
      if (cancelled || !cancellable) {
        return;
      }
      cancelled = true;
      toRun = List.copyOf(actions);
      actions.clear();
    }
    toRun.forEach(Runnable::run);
  }
}
