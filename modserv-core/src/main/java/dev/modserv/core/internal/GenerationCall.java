package dev.modserv.core.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationTimings;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Usage;
import dev.modserv.core.ServingMetrics;
import dev.modserv.core.Ticker;
import dev.modserv.spi.GenerationHandle;
import dev.modserv.spi.GenerationSink;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * One generation on its way through the server: the sink the engine writes to, and the queue of
 * events its consumer reads ({@link GenerationChunk}s, then {@link #END}, or one {@link
 * ModelServingException}). Ends exactly once: completed, failed, cancelled or timed out (a
 * failure with {@code TIMEOUT} that also stops the engine); later engine calls are ignored.
 */
public final class GenerationCall implements GenerationSink {
  /** Marks the end of the events after the last chunk. */
  static final Object END = new Object();

  final GenerationRequest request;
  final long submittedNanos;
  final long deadlineNanos;
  private final Ticker ticker;
  private final String model;
  private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
  private final AtomicBoolean done = new AtomicBoolean();
  /** Runs once, when the first event is queued (or at once if one already is). */
  private final AtomicReference<@Nullable Runnable> onFirstEvent = new AtomicReference<>();
  /** Runs after each event is queued, on the thread that queued it; null for none. */
  private volatile @Nullable Runnable onEachEvent;
  private volatile ServingMetrics.VersionMetrics metrics = ServingMetrics.noop().version("", 0);
  private volatile ServingMetrics errors = ServingMetrics.noop();
  /** The generation's observation; null when tracing is off. */
  volatile Tracing.@Nullable GenerationSpan span;
  private volatile @Nullable GenerationHandle handle;
  /** Fires at the deadline; cancelled when the call ends first. */
  private volatile @Nullable Future<?> deadlineTask;
  private volatile boolean cancelRequested;
  private volatile Runnable onDone = () -> {};
  private volatile long startedNanos = -1;
  private volatile long firstTokenNanos = -1;
  private volatile int steps;
  private volatile int promptTokens;
  /** Set by the scheduler under its lock. */
  boolean started;

  GenerationCall(GenerationRequest request, long submittedNanos, long deadlineNanos,
      Ticker ticker) {
    this.request = request;
    this.submittedNanos = submittedNanos;
    this.deadlineNanos = deadlineNanos;
    this.ticker = ticker;
    this.model = request.model().toString();
  }

  /**
   * Sets what runs when the call ends; returns false when it already ended (cancelled while its
   * model was loading), and then {@code onDone} is the caller's to run.
   */
  synchronized boolean bind(ServingMetrics.VersionMetrics metrics, long version, Runnable onDone) {
    if (done.get()) {
      return false;
    }
    this.metrics = metrics;
    this.onDone = onDone;
    Tracing.GenerationSpan s = span;
    if (s != null) {
      s.version(version);
    }
    return true;
  }

  private synchronized Runnable onDone() {
    return onDone;
  }

  /** Counts the error this call may end with in {@code metrics}, by model and code. */
  void countErrorsIn(ServingMetrics metrics) {
    this.errors = metrics;
  }

  LinkedBlockingQueue<Object> events() {
    return events;
  }

  /**
   * Runs {@code start} once, on the thread that queues the first event, or here if one is queued
   * already: a consumer's thread then starts when there is something to consume, not while the
   * request is still on its way to the engine.
   */
  void whenFirstEvent(Runnable start) {
    onFirstEvent.set(start);
    if (!events.isEmpty()) {
      firstEventQueued();
    }
  }

  /**
   * Runs {@code drain} after each event is queued, on the thread that queued it, and once here:
   * a consumer that takes the events where they are made needs no thread of its own.
   */
  void whenEachEvent(Runnable drain) {
    onEachEvent = drain;
    drain.run();
  }

  private void queue(Object event) {
    events.add(event);
    Runnable each = onEachEvent;
    if (each != null) {
      each.run();
    } else if (onFirstEvent.get() != null) {
      firstEventQueued();
    }
  }

  private void firstEventQueued() {
    Runnable start = onFirstEvent.getAndSet(null);
    if (start != null) {
      start.run();
    }
  }

  boolean isDone() {
    return done.get();
  }

  /** The engine took it: records the queue wait and keeps the handle to cancel it. */
  void started(long nanos) {
    this.startedNanos = nanos;
  }

  void handle(GenerationHandle h) {
    this.handle = h;
    if (cancelRequested || done.get()) {
      h.cancel();
    }
  }

  /** Keeps the task that fires at the deadline, to cancel it when the call ends first. */
  void deadlineTask(Future<?> task) {
    deadlineTask = task;
    if (done.get()) {
      task.cancel(false);
    }
  }

  private void cancelDeadlineTask() {
    Future<?> t = deadlineTask;
    if (t != null) {
      t.cancel(false);
    }
  }

  @Override
  public void prompt(int promptTokens) {
    this.promptTokens = Math.max(0, promptTokens);
  }

  @Override
  public void token(String text, int tokens) {
    if (done.get()) {
      return;
    }
    if (firstTokenNanos < 0) {
      firstTokenNanos = ticker.read();
    }
    int count = steps + Math.max(0, tokens);
    steps = count;
    queue(GenerationChunk.delta(text, count));
  }

  @Override
  public void complete(FinishReason reason, Usage usage) {
    end(reason, usage);
  }

  @Override
  public void fail(Throwable error) {
    ModelServingException e = error instanceof ModelServingException mse ? mse
        : new ModelServingException(ErrorCode.BACKEND_ERROR, "'" + model + "' failed while"
            + " generating: " + error.getMessage(), error);
    failNow(e);
  }

  /** Ends with {@code error}, unless already ended. */
  void failNow(ModelServingException error) {
    if (done.compareAndSet(false, true)) {
      failEnded(error);
    }
  }

  /** Ends with {@code error}; the caller has just set {@link #done}. */
  private void failEnded(ModelServingException error) {
    cancelDeadlineTask();
    // Metrics and the freed sequence first: a caller that sees the end sees them too.
    try {
      metrics.generation(FinishReason.ERROR, new Usage(promptTokens, steps),
          timings(ticker.read()));
      errors.error(error.code() == ErrorCode.MODEL_NOT_FOUND ? "" : request.model().name(),
          error.code());
      Tracing.GenerationSpan s = span;
      if (s != null) {
        s.done(FinishReason.ERROR, promptTokens, steps, error);
      }
      onDone().run();
    } finally {
      queue(error);
    }
  }

  /** Stops the generation, in the engine too, and ends the stream with CANCELLED. */
  public void cancel() {
    try {
      stopEngine();
    } catch (RuntimeException e) {
      fail(e);
      return;
    }
    end(FinishReason.CANCELLED, new Usage(promptTokens, steps));
  }

  /**
   * Its deadline passed while it ran: stops it in the engine and ends the stream with {@code
   * timeout} (counted as a generation that ended in error), at once, whether or not the engine
   * stops at once.
   */
  void timedOut(ModelServingException timeout) {
    // The end is taken before the engine is asked to stop: an engine that answers the stop at
    // once, on this thread or its own, ends it CANCELLED, which the caller must not see instead.
    if (!done.compareAndSet(false, true)) {
      return;
    }
    cancelRequested = true;
    GenerationHandle h = handle;
    if (h != null) {
      try {
        h.cancel();
      } catch (RuntimeException e) {
        timeout.addSuppressed(e);   // the engine could not stop it; the caller is answered anyway
      }
    }
    failEnded(timeout);
  }

  /** Asks the engine to stop; a handle that comes later is cancelled as it comes. */
  private void stopEngine() {
    cancelRequested = true;
    GenerationHandle h = handle;
    if (h != null && !done.get()) {
      h.cancel();
    }
  }

  private void end(FinishReason reason, Usage usage) {
    if (!done.compareAndSet(false, true)) {
      return;
    }
    cancelDeadlineTask();
    GenerationTimings timings = timings(ticker.read());
    // Metrics and the freed sequence first: a caller that sees the end sees them too.
    try {
      metrics.generation(reason, usage, timings);
      Tracing.GenerationSpan s = span;
      if (s != null) {
        s.done(reason, usage.promptTokens(), usage.completionTokens(), null);
      }
      onDone().run();
    } finally {
      events.add(GenerationChunk.last("", reason, usage, timings));
      queue(END);
    }
  }

  private GenerationTimings timings(long now) {
    long start = startedNanos < 0 ? now : startedNanos;
    long first = firstTokenNanos < 0 ? now : firstTokenNanos;
    return new GenerationTimings(Math.max(0, start - submittedNanos),
        Math.max(0, first - submittedNanos), Math.max(0, now - first),
        Math.max(0, now - submittedNanos));
  }
}
