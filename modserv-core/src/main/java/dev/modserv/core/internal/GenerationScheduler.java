package dev.modserv.core.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ServingMetrics;
import dev.modserv.core.Ticker;
import dev.modserv.spi.GenerationHandle;
import dev.modserv.spi.LoadedModel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generations of one model version: at most {@code sequences} run in the engine at once, at most
 * {@code maxWaiting} wait for a sequence (more are refused with {@code QUEUE_FULL}); one whose
 * deadline passes fails with {@code TIMEOUT}: a waiting one leaves the queue, a running one is
 * cancelled in the engine and its sequence is free at once; a drain lets the waiting ones run, a
 * shutdown fails them with {@code SHUTTING_DOWN}. First in, first out.
 */
public final class GenerationScheduler {
  private static final Logger log = LoggerFactory.getLogger(GenerationScheduler.class);

  private final String name;
  private final LoadedModel model;
  private final int sequences;
  private final int maxWaiting;
  private final Executor executor;
  private final ScheduledExecutorService timers;
  private final Ticker ticker;
  @GuardedBy("this")
  private final ArrayDeque<GenerationCall> waiting = new ArrayDeque<>();
  @GuardedBy("this")
  private int running;
  @GuardedBy("this")
  private boolean closed;

  GenerationScheduler(String name, LoadedModel model, int sequences, int maxWaiting,
      Executor executor, ScheduledExecutorService timers, Ticker ticker,
      ServingMetrics.VersionMetrics metrics) {
    this.name = name;
    this.model = model;
    this.sequences = Math.max(1, sequences);
    this.maxWaiting = maxWaiting;
    this.executor = executor;
    this.timers = timers;
    this.ticker = ticker;
    metrics.generationSequences(this::running, this::waiting);
  }

  /** Generation sequences running in the engine. */
  public synchronized int running() {
    return running;
  }

  /** Generations waiting for a sequence. */
  public synchronized int waiting() {
    return waiting.size();
  }

  /** Admits {@code call}: starts it, queues it, or fails it at once. */
  void submit(GenerationCall call) {
    ModelServingException refused = null;
    boolean start = false;
    synchronized (this) {
      if (call.isDone()) {
        return;              // cancelled before it got here; its end freed nothing of ours
      }
      if (closed) {
        refused = new ModelServingException(ErrorCode.SHUTTING_DOWN, name + " is"
            + " unloading; it takes no new generation");
      } else if (running < sequences) {
        running++;
        call.started = true;
        start = true;
      } else if (waiting.size() >= maxWaiting) {
        refused = new ModelServingException(ErrorCode.QUEUE_FULL, name + " runs "
            + sequences + " generations and " + maxWaiting + " are waiting; retry later");
      } else {
        waiting.add(call);
      }
    }
    if (refused != null) {
      call.failNow(refused);
      return;
    }
    if (call.deadlineNanos != Long.MAX_VALUE) {
      long delay = call.deadlineNanos - ticker.read();
      call.deadlineTask(timers.schedule(() -> expire(call), Math.max(0, delay),
          TimeUnit.NANOSECONDS));
    }
    if (start) {
      // On the caller's thread: an engine's generate only starts the work (the SPI says it
      // returns at once), and a hop to another thread would add to the time to first token.
      run(call);
    }
  }

  /** The deadline of {@code call} passed: it leaves the queue, or stops where it runs. */
  private void expire(GenerationCall call) {
    boolean wasRunning;
    synchronized (this) {
      wasRunning = call.started;
      if (!wasRunning && !waiting.remove(call)) {
        return;
      }
    }
    long timeoutMillis = TimeUnit.NANOSECONDS.toMillis(call.deadlineNanos - call.submittedNanos);
    if (wasRunning) {
      call.timedOut(new ModelServingException(ErrorCode.TIMEOUT, name + ": the generation did"
          + " not finish within the request's timeout of " + timeoutMillis + " ms; it was"
          + " stopped at its deadline (ask for fewer tokens, or give it a longer timeout)"));
    } else {
      call.failNow(new ModelServingException(ErrorCode.TIMEOUT, name + ": no generation"
          + " sequence became free within the request's timeout of " + timeoutMillis + " ms"));
    }
  }

  /** Called once when {@code call} ended: frees its sequence or its place in the queue. */
  void done(GenerationCall call) {
    GenerationCall next = null;
    synchronized (this) {
      if (!call.started) {
        waiting.remove(call);
        return;
      }
      running--;
      while (!waiting.isEmpty()) {
        GenerationCall c = waiting.poll();
        if (!c.isDone()) {
          next = c;
          running++;
          c.started = true;
          break;
        }
      }
    }
    if (next != null) {
      start(next);
    }
  }

  private void start(GenerationCall call) {
    try {
      executor.execute(() -> run(call));
    } catch (RejectedExecutionException e) {
      call.failNow(new ModelServingException(ErrorCode.SHUTTING_DOWN, "the server is closing"));
    }
  }

  private void run(GenerationCall call) {
    if (call.isDone()) {
      return;
    }
    call.started(ticker.read());
    try {
      GenerationHandle h = model.generate(call.request, call);
      call.handle(h);
    } catch (ModelServingException e) {
      call.failNow(e);
    } catch (Exception | LinkageError e) {
      log.debug("{} could not start a generation", name, e);
      call.fail(e);
    }
  }

  /** Refuses new generations; waiting ones still run. */
  synchronized void drain() {
    closed = true;
  }

  /** Refuses new generations and fails the waiting ones with {@code error}. */
  void failWaiting(ModelServingException error) {
    List<GenerationCall> failed;
    synchronized (this) {
      closed = true;
      failed = new ArrayList<>(waiting);
      waiting.clear();
    }
    for (GenerationCall c : failed) {
      c.failNow(error);
    }
  }
}
