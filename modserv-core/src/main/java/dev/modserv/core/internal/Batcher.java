package dev.modserv.core.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.Timings;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.RoundEnd;
import dev.modserv.core.ServingMetrics;
import dev.modserv.core.ServingMetrics.Outcome;
import dev.modserv.core.Ticker;
import dev.modserv.spi.RunCancel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

/**
 * The bounded queue and dynamic batcher of one model version (DESIGN.md, "The batching
 * contract"; Triton's rules A to D).
 *
 * <p>There is no batcher thread. Whoever changes the queue's state (a submitting caller, a
 * finishing batch, a timer at the end of a delay window) calls {@link #pump()}, which forms every
 * batch it can while an engine instance is free. A batch runs on a thread that is there already,
 * where it can, since a hand-off to another thread costs tens of microseconds on a small machine:
 * <ul>
 *   <li>a batch that holds the submitting caller's own request runs on the caller's thread when
 *       the caller waits anyway ({@code infer}), or when the model is idle (no other call running
 *       or queued) and the engine is short ({@link #INLINE_LIMIT_NANOS}, so that {@code
 *       inferAsync} returns a completed future without blocking the caller's thread for long);
 *   <li>an event loop's calls are queued, and pumped, at the end of the round that read them
 *       ({@link RoundEnd}): the batch formed there runs on the loop's thread when the engine is
 *       short, and the loop answers every request of the round before it reads again, with no
 *       thread woken (a selector that answers at once works the same way). Since a call enters
 *       the queue only at its own round's end, another loop's round end takes it only when it
 *       found no free instance there: when its batch returns, a loop runs the next only for such
 *       calls (no one else would pump them), up to {@link #CHAIN_LIMIT} in a row;
 *   <li>on a thread of the executor, the batch formed when the engine returns runs next on the
 *       same thread (a chain), and the finished batch is answered on another executor thread,
 *       so that the engine is not idle while callers are woken;
 *   <li>every other batch goes to the executor.
 * </ul>
 * A caller's thread never chains: it answers its batch and returns (a round's end chains only for
 * calls that found no free instance). The lock guards the queue
 * only: it is never held while the engine runs or while a future completes.
 */
final class Batcher {
  /** Runs one batch on the engine; {@code cancel} fires once no request of it waits. */
  interface Engine {
    Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs,
        Map<String, String> parameters, RunCancel cancel) throws Exception;
  }

  /**
   * One batch on its way through the engine: counts its requests that still wait for the engine
   * and cancels the run once none does (each was answered TIMEOUT at its deadline), so that a
   * batch shared by several callers is cut only when all of them have gone.
   */
  static final class Running {
    private final AtomicInteger waiting;
    final RunCancel cancel;

    Running(List<Call> batch) {
      this.waiting = new AtomicInteger(batch.size());
      boolean bounded = batch.stream().anyMatch(Call::hasDeadline);
      this.cancel = bounded ? new RunCancel() : RunCancel.NEVER;
    }

    void answeredEarly() {
      if (waiting.decrementAndGet() == 0) {
        cancel.cancel();
      }
    }
  }

  /**
   * Longest engine time, estimated for the batch at hand from recent batches, that still runs on
   * the thread of a caller that does not wait ({@code inferAsync}, an adapter's I/O thread).
   */
  static final long INLINE_LIMIT_NANOS = 100_000;

  /**
   * Most batches one executor thread runs in a row. The answers it hands off run on the same
   * executor, whose threads a chain may all hold (instances as many as the virtual threads'
   * carriers, an engine call pinning its carrier): a chain ends now and then, so that they run.
   */
  static final int CHAIN_LIMIT = 8;

  /** Schedules a task after a delay; returns a handle to cancel it. */
  interface Scheduler {
    Future<?> schedule(Runnable task, long delayNanos);
  }

  private final String name;
  private final long version;
  /** The version as the logs' MDC carries it. */
  private final String versionText;
  private final BatchingPolicy policy;
  private final boolean batchable;
  private final boolean stacking;
  private final int maxRows;
  private final int maxPreferred;
  private final long delayNanos;
  private final Engine engine;
  private final Executor executor;
  private final Scheduler scheduler;
  private final Ticker ticker;
  private final ServingMetrics.VersionMetrics metrics;
  /** Whether batches may run on threads that are there already (see the class comment). */
  private final boolean avoidHandOffs;

  private final ReentrantLock lock = new ReentrantLock();
  @GuardedBy("lock")
  private final ArrayDeque<Call>[] levels;
  @GuardedBy("lock")
  private int queued;
  @GuardedBy("lock")
  private int freeInstances;
  private final int instances;
  @GuardedBy("lock")
  private boolean draining;
  /**
   * Whether calls were left queued when the last pump found no free instance: the next instance
   * given back must pump for them. Calls an event loop queued are otherwise pumped at its round's
   * end, which a loop giving its instance back leaves to that round.
   */
  @GuardedBy("lock")
  private boolean waitingForInstance;
  @GuardedBy("lock")
  private boolean closed;
  @GuardedBy("lock")
  private long wakeAt = Long.MAX_VALUE;
  // Recent drain rate, for QUEUE_FULL's retry-after hint: an average of nanos per dispatched request.
  @GuardedBy("lock")
  private double nanosPerRequest = -1;
  @GuardedBy("lock")
  private long lastDispatchNanos = Long.MIN_VALUE;
  // The engine's recent time against batch rows; null (so never inline for a caller that does not
  // wait) until a batch has run. Replaced racily by concurrent batches: a lost update only makes
  // the estimate a little older.
  private volatile @Nullable EngineTime engineTime;
  /** Pumps at the end of an event loop's round; one instance, so that a round runs it once. */
  private final Runnable atRoundEnd = this::runAtRoundEnd;

  Batcher(String name, long version, ModelMetadata metadata, BatchingPolicy policy, int instances,
      Engine engine, Executor executor, Scheduler scheduler, Ticker ticker,
      ServingMetrics.VersionMetrics metrics) {
    this(name, version, metadata, policy, instances, engine, executor, scheduler, ticker, metrics,
        true);
  }

  /**
   * With {@code avoidHandOffs} false, every batch runs on the executor and is answered there: a
   * discrete-event simulation, whose executor stands for the engine's time, needs that.
   */
  @SuppressWarnings("unchecked")
  Batcher(String name, long version, ModelMetadata metadata, BatchingPolicy policy, int instances,
      Engine engine, Executor executor, Scheduler scheduler, Ticker ticker,
      ServingMetrics.VersionMetrics metrics, boolean avoidHandOffs) {
    this.avoidHandOffs = avoidHandOffs;
    this.name = name;
    this.version = version;
    this.versionText = Long.toString(version);
    this.policy = policy;
    this.batchable = metadata.has(Capability.BATCHABLE);
    this.stacking = batchable && policy.maxBatchSize() > 1;
    this.maxRows = policy.maxBatchSize();
    this.maxPreferred = policy.preferredBatchSizes().last();
    this.delayNanos = policy.maxQueueDelay().toNanos();
    this.engine = engine;
    this.executor = executor;
    this.scheduler = scheduler;
    this.ticker = ticker;
    this.metrics = metrics;
    this.levels = new ArrayDeque[policy.priorityLevels()];
    for (int i = 0; i < levels.length; i++) {
      levels[i] = new ArrayDeque<>();
    }
    this.freeInstances = instances;
    this.instances = instances;
    // A model that only generates never runs a batch: no queue or batch meters for it.
    if (metadata.has(dev.modserv.api.Capability.TENSOR)
        || metadata.has(dev.modserv.api.Capability.EMBEDDING)) {
      metrics.queueDepth(this::queued);
    }
  }

  int queued() {
    lock.lock();
    try {
      return queued;
    } finally {
      lock.unlock();
    }
  }

  boolean stacking() {
    return stacking;
  }

  /** Whether the model has a batch dimension, and so a row limit per engine call. */
  boolean batchable() {
    return batchable;
  }

  /** The queued calls in batching order (priority, then arrival); for tests and diagnostics. */
  List<Call> queuedSnapshot() {
    lock.lock();
    try {
      List<Call> all = new ArrayList<>(queued);
      for (ArrayDeque<Call> level : levels) {
        all.addAll(level);
      }
      return all;
    } finally {
      lock.unlock();
    }
  }

  /** Engine instances not running a batch now; for tests and diagnostics. */
  int freeInstances() {
    lock.lock();
    try {
      return freeInstances;
    } finally {
      lock.unlock();
    }
  }

  /** Checks what can be checked before queueing; throws INVALID_INPUT. */
  int levelOf(int priority, long rows) {
    if (batchable && rows > maxRows) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT,
          "request has " + rows + " rows; '" + name + "' version " + version + " takes at most "
              + maxRows + " rows per batch (maxBatchSize); split the request");
    }
    int levels = policy.priorityLevels();
    if (priority >= levels) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT,
          "priority " + priority + " is out of range: '" + name + "' has " + levels
              + " priority level" + (levels == 1 ? " (0)" : "s (0 to " + (levels - 1) + ")"));
    }
    return priority;
  }

  /** Queues a call, or completes it at once with QUEUE_FULL or SHUTTING_DOWN. */
  void submit(Call call) {
    submit(call, Caller.ASYNC);
  }

  /** What {@link #enqueue} did with a call. */
  private enum Queued { REFUSED, FULL, BEHIND_OTHERS, ALONE }

  /**
   * Queues a call. A batch formed now that holds it runs on the calling thread, saving two thread
   * hand-offs, when the caller waits (a synchronous call: the thread is about to wait for it
   * anyway) or when the model was idle and the engine is short for that batch ({@link
   * #INLINE_LIMIT_NANOS}); an event loop's call is pumped at the end of its round instead.
   */
  void submit(Call call, Caller caller) {
    RoundEnd roundEnd = avoidHandOffs ? caller.roundEnd() : null;
    if (roundEnd != null) {
      // Queued at the round's end too, not now: another loop's round end would take it into its
      // own batch, and answer it on its own thread. A round with more calls than the queue has
      // room for runs what is queued first, as calls queued one by one would have been.
      roundEnd.runAtEnd(() -> {
        if (enqueue(call, false) == Queued.FULL) {
          runAtRoundEnd();
          enqueue(call, true);
        }
      });
      roundEnd.runAtEnd(atRoundEnd);
      return;
    }
    Queued queued = enqueue(call, true);
    if (queued == Queued.REFUSED) {
      return;
    }
    boolean runHere = queued == Queued.ALONE;
    List<Call> mine = pump(batch -> avoidHandOffs && batch.contains(call)
        && (caller.waits() || (runHere && shortEnough(batch))));
    if (mine != null) {
      run(mine, false);
    }
  }

  /**
   * Queues a call and starts its deadline, or answers it SHUTTING_DOWN, or QUEUE_FULL (with {@code
   * refuseWhenFull}; without, a full queue leaves the call as it was: {@link Queued#FULL}).
   */
  private Queued enqueue(Call call, boolean refuseWhenFull) {
    ModelServingException refusal = null;
    boolean alone = false;
    lock.lock();
    try {
      if (closed) {
        refusal = new ModelServingException(ErrorCode.SHUTTING_DOWN,
            "version " + version + " of '" + name + "' is unloading; send requests to another"
                + " version");
      } else if (queued >= policy.maxQueueSize() && !refuseWhenFull) {
        return Queued.FULL;
      } else if (queued >= policy.maxQueueSize()) {
        Duration retry = retryAfter();
        refusal = new ModelServingException(ErrorCode.QUEUE_FULL,
            "the queue of '" + name + "' version " + version + " is full ("
                + policy.maxQueueSize() + " requests); retry after " + retry.toMillis() + " ms",
            null, retry);
      } else {
        levels[call.level].addLast(call);
        queued++;
        // A caller that does not wait runs its batch only on an idle model: while other calls
        // run or wait, two threads running short batches where they read requests keep the
        // cores on their own connections (p99 18x the bare handler's at 16 connections).
        alone = queued == 1 && freeInstances == instances;
      }
    } finally {
      lock.unlock();
    }
    if (refusal != null) {
      finish(call, null, refusal, Outcome.REJECTED);
      return Queued.REFUSED;
    }
    if (call.hasDeadline()) {
      long delay = Math.max(0, call.deadlineNanos - ticker.read());
      call.timeoutTask = scheduler.schedule(() -> expire(call), delay);
    }
    return alone ? Queued.ALONE : Queued.BEHIND_OTHERS;
  }

  /**
   * At the end of an event loop's round: forms what is queued into batches and runs the first, if
   * short, on the loop's thread, answering its calls there; then the next, while calls wait that
   * no one else would pump, up to {@link #CHAIN_LIMIT} in a row.
   */
  private void runAtRoundEnd() {
    List<Call> batch = pump(this::shortEnough);
    if (batch == null) {
      return;
    }
    MDC.put("model", name);
    MDC.put("version", versionText);
    try {
      for (int ran = 1; batch != null; ran++) {
        Ran done = runEngine(batch);
        boolean more = ran < CHAIN_LIMIT && !(done.failure instanceof VirtualMachineError);
        boolean orphans;
        lock.lock();
        try {
          freeInstances++;
          orphans = waitingForInstance;
        } finally {
          lock.unlock();
        }
        List<Call> next = orphans ? pump(formed -> more && shortEnough(formed)) : null;
        try {
          answer(done);
        } catch (RuntimeException | Error e) {
          if (next != null) {
            dispatch(next);   // it holds an instance: it must run somewhere
          }
          throw e;
        }
        batch = next;
      }
    } finally {
      MDC.remove("model");
      MDC.remove("version");
    }
  }

  /** Whether recent batches say that {@code batch} takes the engine under the inline limit. */
  private boolean shortEnough(List<Call> batch) {
    EngineTime time = engineTime;
    if (time == null) {
      return false;
    }
    long rows = 0;
    for (Call call : batch) {
      rows += call.rows;
    }
    return time.estimate(rows) < INLINE_LIMIT_NANOS;
  }

  @GuardedBy("lock")
  private Duration retryAfter() {
    if (nanosPerRequest <= 0) {
      return Duration.ofSeconds(1);
    }
    long nanos = (long) Math.min(60e9, Math.max(1e6, nanosPerRequest * queued));
    return Duration.ofNanos(nanos);
  }

  /** Forms and dispatches every batch it can now; schedules a wake-up for a delay window. */
  void pump() {
    pump(batch -> false);
  }

  /**
   * Forms every batch it can now, dispatches each to the executor except the first that {@code
   * keep} accepts, which it returns for the calling thread to run; schedules a wake-up for a delay
   * window.
   */
  private @Nullable List<Call> pump(Predicate<List<Call>> keep) {
    List<List<Call>> batches = null;
    List<Call> expired = null;
    long wakeIn = -1;
    lock.lock();
    try {
      long now = ticker.read();
      while (freeInstances > 0 && queued > 0) {
        Formed formed = form(now);
        if (formed.expired != null) {
          if (expired == null) {
            expired = new ArrayList<>();
          }
          expired.addAll(formed.expired);
        }
        if (formed.batch != null) {
          freeInstances--;
          if (batches == null) {
            batches = new ArrayList<>(2);
          }
          batches.add(formed.batch);
          noteDispatch(now, formed.batch.size());
        } else {
          if (formed.waitNanos > 0 && now + formed.waitNanos < wakeAt) {
            wakeAt = now + formed.waitNanos;
            wakeIn = formed.waitNanos;
          }
          break;
        }
      }
      waitingForInstance = queued > 0 && freeInstances == 0;
    } finally {
      lock.unlock();
    }
    if (expired != null) {
      for (Call call : expired) {
        finish(call, null, timeout(call), Outcome.TIMEOUT);
      }
    }
    List<Call> kept = null;
    if (batches != null) {
      for (List<Call> batch : batches) {
        if (kept == null && keep.test(batch)) {
          kept = batch;
        } else {
          dispatch(batch);
        }
      }
    }
    if (wakeIn > 0) {
      scheduler.schedule(this::wake, wakeIn);
    }
    return kept;
  }

  private void wake() {
    lock.lock();
    try {
      wakeAt = Long.MAX_VALUE;
    } finally {
      lock.unlock();
    }
    pump();
  }

  @GuardedBy("lock")
  private void noteDispatch(long now, int requests) {
    if (lastDispatchNanos != Long.MIN_VALUE) {
      double sample = (double) (now - lastDispatchNanos) / requests;
      nanosPerRequest = nanosPerRequest < 0 ? sample : 0.8 * nanosPerRequest + 0.2 * sample;
    }
    lastDispatchNanos = now;
  }

  /** The outcome of one look at the queue. */
  private record Formed(@Nullable List<Call> batch, long waitNanos, @Nullable List<Call> expired) {}

  /** What one walk over the queue found: the batch it could form now, and when to stop. */
  private static final class Scan {
    @Nullable List<Call> expired;
    @Nullable Call first;
    long rows;
    int count;
    int best;
    int bestCount;
    boolean pastPreferred;
    boolean sendNow;
    long oldest = Long.MAX_VALUE;
    long nearestDeadline = Long.MAX_VALUE;
  }

  /** Triton's GetDynamicBatch over the queue (priority, then arrival); caller holds the lock. */
  @GuardedBy("lock")
  private Formed form(long now) {
    Scan scan = scan(now);
    if (scan.count == 0) {
      return new Formed(null, 0, scan.expired);
    }
    long age = now - scan.oldest;
    boolean exceeded = draining || (delayNanos != 0 && age >= delayNanos);
    int take;
    if (scan.best != 0 && scan.bestCount > 0 && !exceeded) {
      take = scan.bestCount;                              // rule A: a preferred size
    } else if (scan.sendNow || scan.rows >= maxPreferred || exceeded || delayNanos == 0) {
      take = scan.count;                                  // rules B and C
    } else {                                              // rule D: wait
      long wait = delayNanos - age;
      if (scan.nearestDeadline != Long.MAX_VALUE) {
        wait = Math.min(wait, scan.nearestDeadline - now);
      }
      return new Formed(null, Math.max(1, wait), scan.expired);
    }
    List<Call> batch = take(take);
    return new Formed(batch.isEmpty() ? null : batch, 0, scan.expired);
  }

  /**
   * Walks the queue in batching order: removes expired calls, and measures the batch that could
   * form from the head (up to a call that cannot join it). Caller holds the lock.
   */
  @GuardedBy("lock")
  private Scan scan(long now) {
    Scan scan = new Scan();
    for (ArrayDeque<Call> level : levels) {
      for (Iterator<Call> it = level.iterator(); it.hasNext(); ) {
        Call call = it.next();
        if (call.hasDeadline() && now - call.deadlineNanos >= 0) {
          it.remove();
          queued--;
          if (call.abandon()) {
            if (scan.expired == null) {
              scan.expired = new ArrayList<>();
            }
            scan.expired.add(call);
          }
          continue;
        }
        Call first = scan.first;
        if (first != null
            && (!stacking || scan.rows + call.rows > maxRows || !stackable(first, call))) {
          scan.sendNow = true;
          return scan;
        }
        count(scan, call);
      }
    }
    return scan;
  }

  /** Adds {@code call} to the batch being measured, noting where a preferred size is reached. */
  private void count(Scan scan, Call call) {
    if (scan.first == null) {
      scan.first = call;
    }
    if (!scan.pastPreferred && scan.rows + call.rows > maxPreferred) {
      scan.pastPreferred = true;
      if (scan.best == 0) {
        scan.best = (int) scan.rows;
        scan.bestCount = scan.count;
      }
    }
    scan.rows += call.rows;
    scan.count++;
    scan.oldest = Math.min(scan.oldest, call.submittedNanos);
    if (call.hasDeadline()) {
      scan.nearestDeadline = Math.min(scan.nearestDeadline, call.deadlineNanos);
    }
    if (!scan.pastPreferred && policy.preferredBatchSizes().contains((int) scan.rows)) {
      scan.best = (int) scan.rows;
      scan.bestCount = scan.count;
    }
  }

  /** Takes the first {@code count} calls off the queue, leaving out any that were cancelled. */
  @GuardedBy("lock")
  private List<Call> take(int count) {
    List<Call> batch = new ArrayList<>(count);
    for (ArrayDeque<Call> level : levels) {
      while (batch.size() < count && !level.isEmpty()) {
        Call call = level.pollFirst();
        queued--;
        if (call.start()) {
          batch.add(call);
        }
      }
    }
    if (!batch.isEmpty()) {
      Running running = new Running(batch);
      for (Call call : batch) {
        call.running = running;
      }
    }
    return batch;
  }

  /** Whether {@code call} can share a batch with {@code first}: same shapes, or padded inputs. */
  private boolean stackable(Call first, Call call) {
    // Parameters may change what the engine runs (another signature): such requests go alone.
    if (!first.request.parameters().isEmpty() || !call.request.parameters().isEmpty()) {
      return false;
    }
    for (Map.Entry<String, Tensor> input : first.request.inputs().entrySet()) {
      Tensor other = call.request.inputs().get(input.getKey());
      if (other == null) {
        return false;
      }
      if (!Tensors.sameRowShape(input.getValue(), other)
          && !(policy.padding().containsKey(input.getKey())
              && input.getValue().rank() == other.rank()
              && input.getValue().dataType() != dev.modserv.api.DataType.STRING)) {
        return false;
      }
    }
    return true;
  }

  private void dispatch(List<Call> batch) {
    try {
      executor.execute(() -> run(batch, avoidHandOffs));
    } catch (RejectedExecutionException e) {
      ModelServingException refusal = new ModelServingException(ErrorCode.SHUTTING_DOWN,
          "the server's executor refused the batch of '" + name + "'");
      for (Call call : batch) {
        end(call, null, refusal, Outcome.REJECTED);
      }
      instanceFree(false);
    }
  }

  /**
   * Runs one batch in the engine and completes each of its calls with its own rows. The instance
   * is given back as soon as the engine returns, so that the next batch starts while this one's
   * results are split and handed out. A batch whose every call was answered at its deadline
   * before it started does not run.
   *
   * <p>With {@code chain} (a thread of the executor), a batch formed when the engine returns runs
   * next on this thread, up to {@link #CHAIN_LIMIT} in a row, and the finished one is answered on
   * another executor thread; without it (a caller's thread), any such batch goes to the executor
   * and this thread answers its own.
   */
  private void run(List<Call> batch, boolean chain) {
    // What the engine logs while it runs names the model (the JSON log's model and version).
    MDC.put("model", name);
    MDC.put("version", versionText);
    try {
      List<Call> current = batch;
      for (int ran = 1; current != null; ran++) {
        Ran done = runEngine(current);
        List<Call> next = instanceFree(chain && ran < CHAIN_LIMIT
            && !(done.failure instanceof VirtualMachineError));
        if (next != null && answerElsewhere(done)) {
          current = next;
          continue;
        }
        if (next != null) {
          dispatch(next);
        }
        answer(done);
        current = null;
      }
    } finally {
      MDC.remove("model");
      MDC.remove("version");
    }
  }

  /** A batch back from the engine: its outputs, or what failed, and when it started and ended. */
  private record Ran(List<Call> batch, long totalRows, long start, long end,
      @Nullable Map<String, Tensor> results, @Nullable Throwable failure) {}

  private Ran runEngine(List<Call> batch) {
    long start = ticker.read();
    long totalRows = 0;
    Map<String, Tensor> results = null;
    Throwable failure = null;
    Running running = batch.get(0).running;
    RunCancel cancel = running == null ? RunCancel.NEVER : running.cancel;
    try {
      for (Call call : batch) {
        metrics.queueWait(start - call.submittedNanos);
        totalRows += call.rows;
      }
      for (Call call : batch) {
        Tracing.CallSpans spans = call.spans;
        if (spans != null) {
          spans.running(batch.size(), totalRows);
        }
      }
      if (!cancel.isCancelled()) {
        results = engine.run(inputs(batch), outputsWanted(batch),
            batch.get(0).request.parameters(), cancel);
      }
    } catch (Throwable t) {
      failure = t;
    }
    long end = ticker.read();
    if (results != null) {
      measured(end - start, totalRows);
    }
    return new Ran(batch, totalRows, start, end, results, failure);
  }

  /** Updates the engine's recent time with a batch of {@code rows} that took {@code nanos}. */
  private void measured(long nanos, long rows) {
    // Clamped, so that one slow batch (a GC pause, a cold cache) counts as at most twice the
    // limit: an engine must be slow again and again to leave callers' threads.
    long clamped = Math.min(nanos, 2 * INLINE_LIMIT_NANOS);
    EngineTime time = engineTime;
    engineTime = time == null ? EngineTime.first(rows, clamped) : time.add(rows, clamped);
  }

  /**
   * Hands the answering of {@code ran} to the executor, so that this thread can run the next
   * batch at once; false when the executor refuses it (this thread answers then).
   */
  private boolean answerElsewhere(Ran ran) {
    try {
      executor.execute(() -> answer(ran));
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  /** Completes each call of a batch back from the engine with its own rows, or with the error. */
  private void answer(Ran ran) {
    List<Call> batch = ran.batch;
    long start = ran.start;
    long end = ran.end;
    long totalRows = ran.totalRows;
    Map<String, Tensor> results = ran.results;
    Throwable failure = ran.failure;
    metrics.batch((int) Math.min(Integer.MAX_VALUE, totalRows), end - start);
    if (failure != null || results == null) {
      ModelServingException error = failure instanceof ModelServingException mse ? mse
          : new ModelServingException(ErrorCode.BACKEND_ERROR, "'" + name + "' version "
              + version + " failed on a batch of " + batch.size() + " request(s): "
              + (failure == null ? "the engine returned no outputs" : failure), failure);
      for (Call call : batch) {
        end(call, null, error, Outcome.ERROR);
      }
      if (failure instanceof VirtualMachineError vme) {
        throw vme;
      }
      return;
    }
    long offset = 0;
    for (Call call : batch) {
      if (!call.finished()) {
        call.release.run();   // answered at its deadline; the lease ends with the run
        offset += call.rows;
        continue;
      }
      InferenceResult result = null;
      ModelServingException error = null;
      try {
        result = new InferenceResult(name, version, split(call, results, offset, totalRows,
            batch.size()), new Timings(Duration.ofNanos(start - call.submittedNanos),
            Duration.ofNanos(end - start), Duration.ofNanos(ticker.read() - call.submittedNanos)));
      } catch (ModelServingException e) {
        error = e;
      } catch (RuntimeException e) {
        error = new ModelServingException(ErrorCode.BACKEND_ERROR, "splitting the outputs of '"
            + name + "' failed: " + e, e);
      }
      offset += call.rows;
      finish(call, result, error, error == null ? Outcome.SUCCESS : Outcome.ERROR);
    }
  }

  /**
   * Gives an engine instance back and forms what can go now; with {@code chain}, returns one
   * formed batch for this thread to run.
   */
  private @Nullable List<Call> instanceFree(boolean chain) {
    lock.lock();
    try {
      freeInstances++;
    } finally {
      lock.unlock();
    }
    return pump(batch -> chain);
  }

  private Map<String, Tensor> inputs(List<Call> batch) {
    if (batch.size() == 1) {
      return batch.get(0).request.inputs();
    }
    Map<String, Tensor> stacked = new LinkedHashMap<>();
    for (String input : batch.get(0).request.inputs().keySet()) {
      List<Tensor> parts = new ArrayList<>(batch.size());
      for (Call call : batch) {
        parts.add(call.request.inputs().get(input));
      }
      stacked.put(input, Tensors.stack(parts, policy.padding().getOrDefault(input, 0.0)));
    }
    return stacked;
  }

  private static Set<String> outputsWanted(List<Call> batch) {
    Set<String> wanted = new LinkedHashSet<>();
    for (Call call : batch) {
      if (call.request.outputs().isEmpty()) {
        return Set.of();
      }
      wanted.addAll(call.request.outputs());
    }
    return wanted;
  }

  private Map<String, Tensor> split(Call call, Map<String, Tensor> outputs, long offset,
      long totalRows, int batchSize) {
    Set<String> wanted = call.request.outputs().isEmpty() ? outputs.keySet()
        : call.request.outputs();
    Map<String, Tensor> mine = new LinkedHashMap<>();
    long trimLength = trimLength(call);
    for (String output : wanted) {
      Tensor t = outputs.get(output);
      if (t == null) {
        throw new ModelServingException(ErrorCode.BACKEND_ERROR,
            "the engine did not return output '" + output + "' of '" + name + "'");
      }
      if (batchSize == 1 && trimLength < 0) {
        mine.put(output, t);
        continue;
      }
      if (Tensors.rows(t) != totalRows) {
        throw new ModelServingException(ErrorCode.BACKEND_ERROR,
            "the engine returned " + Tensors.rows(t) + " rows of '" + output + "' for a batch of "
                + totalRows + " rows");
      }
      int axis = policy.trimmedOutputs().getOrDefault(output, -1);
      mine.put(output, Tensors.rows(t, offset, call.rows, axis, trimLength));
    }
    return mine;
  }

  /** The unpadded length of axis 1 of the call's first padded input, or -1. */
  private long trimLength(Call call) {
    if (policy.trimmedOutputs().isEmpty()) {
      return -1;
    }
    for (String input : policy.padding().keySet()) {
      Tensor t = call.request.inputs().get(input);
      if (t != null && t.rank() > 1) {
        return t.dim(1);
      }
    }
    return -1;
  }

  /** Ends a call of a batch that returned: answers it, or only releases one answered early. */
  private void end(Call call, @Nullable InferenceResult result,
      @Nullable ModelServingException error, Outcome outcome) {
    if (call.finished()) {
      finish(call, result, error, outcome);
    } else {
      call.release.run();
    }
  }

  /**
   * Fails a call whose deadline passed: a queued one is taken off the queue and never runs; a
   * running one is answered now, and its batch's run is cancelled once no call of it waits.
   */
  private void expire(Call call) {
    boolean removed;
    lock.lock();
    try {
      removed = levels[call.level].remove(call);
      if (removed) {
        queued--;
      }
    } finally {
      lock.unlock();
    }
    if (removed && call.abandon()) {
      finish(call, null, timeout(call), Outcome.TIMEOUT);
    } else if (!removed && call.answerEarly()) {
      metrics.request(Outcome.TIMEOUT, ticker.read() - call.submittedNanos);
      Tracing.CallSpans spans = call.spans;
      if (spans != null) {
        spans.done(Outcome.TIMEOUT, null);
      }
      complete(call, null, new ModelServingException(ErrorCode.TIMEOUT, "request to '" + name
          + "' version " + version + " did not finish within its timeout of "
          + timeoutMillis(call) + " ms; it was answered at its deadline, and the engine stops"
          + " the run once no request in its batch waits for it"));
      Running running = call.running;
      if (running != null) {
        running.answeredEarly();
      }
    }
    if (removed) {
      pump();   // what is left may now make a preferred or full batch
    }
  }

  private ModelServingException timeout(Call call) {
    return new ModelServingException(ErrorCode.TIMEOUT,
        "request to '" + name + "' version " + version + " did not start within its timeout of "
            + timeoutMillis(call) + " ms; it was not run");
  }

  private static long timeoutMillis(Call call) {
    return Duration.ofNanos(call.deadlineNanos - call.submittedNanos).toMillis();
  }

  /**
   * Sends what is queued without waiting out delay windows. New requests are already refused by
   * the version's leases; a caller that took its lease before the drain is still queued.
   */
  void drain() {
    lock.lock();
    try {
      draining = true;
    } finally {
      lock.unlock();
    }
    pump();
  }

  /** Fails every queued call with {@code error}; running batches finish. */
  void failQueued(ModelServingException error) {
    List<Call> failed = new ArrayList<>();
    lock.lock();
    try {
      closed = true;
      for (ArrayDeque<Call> level : levels) {
        for (Call call : level) {
          if (call.abandon()) {
            failed.add(call);
          }
        }
        level.clear();
      }
      queued = 0;
    } finally {
      lock.unlock();
    }
    for (Call call : failed) {
      finish(call, null, error, Outcome.REJECTED);
    }
  }

  private void finish(Call call, @Nullable InferenceResult result,
      @Nullable ModelServingException error, Outcome outcome) {
    Future<?> timeoutTask = call.timeoutTask;
    if (timeoutTask != null) {
      timeoutTask.cancel(false);
    }
    metrics.request(outcome, ticker.read() - call.submittedNanos);
    Tracing.CallSpans spans = call.spans;
    if (spans != null) {
      spans.done(outcome, error);
    }
    // The lease goes first: once a caller sees its answer, the version is no longer in use by it
    // (an unload or an idle eviction right after must not wait for, or skip, this request).
    try {
      call.release.run();
    } finally {
      complete(call, result, error);
    }
  }

  private static void complete(Call call, @Nullable InferenceResult result,
      @Nullable ModelServingException error) {
    if (error != null) {
      call.future.completeExceptionally(error);
    } else {
      call.future.complete(result);
    }
  }
}
