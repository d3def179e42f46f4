package dev.modserv.core.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ServingMetrics;
import dev.modserv.testkit.FakeBackend;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A discrete-event simulation of one {@link Batcher} on a fake clock: arrivals, timers and engine
 * completions happen at exact nanoseconds, one at a time, so every property of the batching
 * contract can be checked after every event, with no thread and no sleep.
 */
final class BatcherSimulation {

  /** One request of the scenario. */
  record Arrival(long gap, int rows, int priority, long timeout, boolean poison) {
    @Override
    public String toString() {
      return "+" + gap + "ns rows=" + rows + " prio=" + priority
          + (timeout > 0 ? " timeout=" + timeout : "") + (poison ? " POISON" : "");
    }
  }

  /** What happened to one request. */
  static final class Outcome {
    final int id;
    final Arrival arrival;
    final long arrivedAt;
    final long deadline;
    int queuedAtSubmit;
    @Nullable CompletableFuture<InferenceResult> future;
    long completedAt = -1;
    long dispatchedAt = -1;
    int batch = -1;
    final AtomicInteger releases = new AtomicInteger();
    @Nullable ErrorCode refusedAtValidation;

    Outcome(int id, Arrival arrival, long arrivedAt) {
      this.id = id;
      this.arrival = arrival;
      this.arrivedAt = arrivedAt;
      this.deadline = arrival.timeout() > 0 ? arrivedAt + arrival.timeout() : Long.MAX_VALUE;
    }

    @Nullable ErrorCode code() {
      if (refusedAtValidation != null) {
        return refusedAtValidation;
      }
      CompletableFuture<InferenceResult> f = future;
      if (f == null || !f.isCompletedExceptionally()) {
        return null;
      }
      try {
        f.join();
        return null;
      } catch (RuntimeException e) {
        return ModelServingException.codeOf(e).orElseThrow();
      }
    }
  }

  /** One engine call. */
  record Batch(int index, long dispatchedAt, long finishedAt, List<Integer> requests, long rows,
      boolean poisoned, List<Integer> queuedBehind) {}

  private record Timer(long at, long seq, Runnable task, CompletableFuture<Void> handle) {}

  private record Running(Runnable task, long dispatchedAt, long finishAt, long seq,
      List<Integer> queuedBehind) {}

  final BatchingPolicy policy;
  final long now[] = {0};
  private long seq;
  private final PriorityQueue<Timer> timers =
      new PriorityQueue<>(Comparator.comparingLong(Timer::at).thenComparingLong(Timer::seq));
  private final PriorityQueue<Running> running =
      new PriorityQueue<>(Comparator.comparingLong(Running::finishAt).thenComparingLong(Running::seq));
  private final long[] engineTimes;
  private int engineTimeIndex;
  private @Nullable Running current;
  final Batcher batcher;
  final List<Outcome> outcomes = new ArrayList<>();
  final List<Batch> batches = new ArrayList<>();
  private final Map<Float, Integer> idByValue = new HashMap<>();
  private final List<String> violations = new ArrayList<>();
  private long lastInstanceFree = 0;
  private long mustDispatchBy = Long.MAX_VALUE;
  boolean draining;

  /**
   * Every batch runs on the simulated executor, whose tasks stand for the engine's time: the
   * batcher's runs on callers' threads and chains on its own need threads that take time, which
   * a discrete-event simulation does not have ({@code BatcherStressProperties} and {@code
   * BatcherHandOffTest} run those paths on real threads).
   */
  BatcherSimulation(BatchingPolicy policy, long[] engineTimes) {
    this.policy = policy;
    this.engineTimes = engineTimes;
    Batcher.Scheduler scheduler = (task, delay) -> {
      CompletableFuture<Void> handle = new CompletableFuture<>();
      timers.add(new Timer(now[0] + delay, seq++, task, handle));
      return handle;
    };
    this.batcher = new Batcher("m", 1, FakeBackend.defaultMetadata(), policy,
        policy.instances().orElse(1), this::engine,
        task -> running.add(new Running(task, now[0], now[0] + nextEngineTime(), seq++,
            ids(batcherQueue()))),
        scheduler, () -> now[0], ServingMetrics.Noop.INSTANCE, false);
  }

  private List<Call> batcherQueue() {
    return batcher.queuedSnapshot();
  }

  private long nextEngineTime() {
    return engineTimes[engineTimeIndex++ % engineTimes.length];
  }

  private List<Integer> ids(List<Call> calls) {
    List<Integer> ids = new ArrayList<>();
    for (Call c : calls) {
      ids.add(idOf(c));
    }
    return ids;
  }

  private int idOf(Call call) {
    return idByValue.get(call.request.inputs().get("x").floatBuffer().get(0));
  }

  /** The fake engine: y = 2x; a batch holding a poisoned request fails whole. */
  private Map<String, Tensor> engine(Map<String, Tensor> inputs, Set<String> outputs,
      Map<String, String> parameters, dev.modserv.spi.RunCancel cancel) {
    Running r = current;
    if (r == null) {
      throw new IllegalStateException("engine called outside a simulated run");
    }
    Tensor x = inputs.get("x");
    float[] values = x.toFloatArray();
    LinkedHashSet<Integer> ids = new LinkedHashSet<>();
    for (int i = 0; i < values.length; i += 4) {
      ids.add(idByValue.get(values[i]));
    }
    boolean poisoned = false;
    for (int id : ids) {
      Outcome o = outcomes.get(id);
      o.dispatchedAt = r.dispatchedAt();
      o.batch = batches.size();
      poisoned |= o.arrival.poison();
    }
    batches.add(new Batch(batches.size(), r.dispatchedAt(), r.finishAt(), List.copyOf(ids),
        x.dim(0), poisoned, r.queuedBehind()));
    if (poisoned) {
      throw new IllegalStateException("poisoned batch");
    }
    float[] y = new float[values.length];
    for (int i = 0; i < y.length; i++) {
      y[i] = 2 * values[i];
    }
    return Map.of("y", Tensor.of(y, x.shape()));
  }

  /** Runs the scenario, then closes the queue by draining it or by failing what is queued. */
  List<String> run(List<Arrival> arrivals, boolean drainAtEnd) {
    long nextArrivalAt = arrivals.isEmpty() ? Long.MAX_VALUE : arrivals.get(0).gap();
    int next = 0;
    boolean closing = false;
    while (true) {
      Timer timer = timers.peek();
      while (timer != null && timer.handle().isCancelled()) {
        timers.poll();
        timer = timers.peek();
      }
      Running finish = running.peek();
      long t = Math.min(nextArrivalAt, Math.min(timer == null ? Long.MAX_VALUE : timer.at(),
          finish == null ? Long.MAX_VALUE : finish.finishAt()));
      if (t == Long.MAX_VALUE) {
        if (closing) {
          break;
        }
        closing = true;
        if (drainAtEnd) {
          draining = true;
          batcher.drain();
        } else {
          batcher.failQueued(new ModelServingException(ErrorCode.SHUTTING_DOWN, "closed"));
        }
        check();
        continue;
      }
      if (t > mustDispatchBy) {
        violations.add("rule 3: at " + mustDispatchBy + " an instance was free and the oldest"
            + " queued request had waited the full delay, but nothing happened until " + t);
      }
      now[0] = t;
      if (finish != null && finish.finishAt() == t) {
        running.poll();
        current = finish;
        lastInstanceFree = t;
        finish.task().run();
        current = null;
      } else if (timer != null && timer.at() == t) {
        timers.poll();
        timer.task().run();
      } else {
        Arrival a = arrivals.get(next);
        submit(a);
        next++;
        nextArrivalAt = next < arrivals.size() ? t + arrivals.get(next).gap() : Long.MAX_VALUE;
      }
      check();
    }
    return violations;
  }

  private void submit(Arrival a) {
    int id = outcomes.size();
    Outcome o = new Outcome(id, a, now[0]);
    outcomes.add(o);
    float value = id + 1;
    idByValue.put(value, id);
    float[] x = new float[a.rows() * 4];
    java.util.Arrays.fill(x, value);
    InferenceRequest request = InferenceRequest.builder("m")
        .input("x", Tensor.of(x, a.rows(), 4)).build();
    int level;
    try {
      level = batcher.levelOf(a.priority(), a.rows());
    } catch (ModelServingException e) {
      o.refusedAtValidation = e.code();
      return;
    }
    o.queuedAtSubmit = batcher.queued();
    Call call = new Call(request, now[0], o.deadline, level, o.releases::incrementAndGet);
    o.future = call.future;
    call.future.whenComplete((r, e) -> o.completedAt = now[0]);
    batcher.submit(call);
  }

  /** The state invariants of rules 3, 4, 5 and 8, after every event. */
  private void check() {
    List<Call> queue = batcher.queuedSnapshot();
    if (queue.size() > policy.maxQueueSize()) {
      violations.add("rule 5: " + queue.size() + " queued > maxQueueSize at " + now[0]);
    }
    mustDispatchBy = Long.MAX_VALUE;
    if (queue.isEmpty() || batcher.freeInstances() == 0) {
      return;
    }
    // An instance is free and requests wait: only a delay window may hold them back.
    long delay = policy.maxQueueDelay().toNanos();
    long rows = 0;
    long oldest = Long.MAX_VALUE;
    boolean preferred = false;
    boolean full = false;
    int walked = 0;
    for (Call c : queue) {
      if (c.hasDeadline() && c.deadlineNanos <= now[0]) {
        continue;
      }
      if (walked > 0 && (!batcher.stacking() || rows + c.rows > policy.maxBatchSize())) {
        full = true;
        break;
      }
      rows += c.rows;
      walked++;
      oldest = Math.min(oldest, c.submittedNanos);
      if (policy.preferredBatchSizes().contains((int) rows)) {
        preferred = true;
      }
    }
    if (walked == 0) {
      return;
    }
    String state = " (at " + now[0] + ": " + walked + " requests, " + rows + " rows, oldest from "
        + oldest + ", free instances " + batcher.freeInstances() + ")";
    if (delay == 0 || draining) {
      violations.add("rule 3: requests wait although an instance is free and there is no delay"
          + state);
    } else if (preferred || full || rows >= policy.preferredBatchSizes().last()) {
      violations.add("rule 4: a preferred or full batch waits although an instance is free"
          + state);
    } else if (now[0] - oldest >= delay) {
      violations.add("rule 3: the oldest request waited the full delay with an instance free"
          + state);
    } else {
      mustDispatchBy = oldest + delay;
    }
  }

  /** Per request and per batch checks once the simulation has ended. */
  List<String> checkOutcomes() {
    List<String> v = new ArrayList<>(violations);
    int pmax = policy.preferredBatchSizes().last();
    for (Batch b : batches) {
      if (b.rows() < 1 || b.rows() > Math.max(policy.maxBatchSize(), 1)) {
        v.add("rule 2: batch " + b.index() + " has " + b.rows() + " rows");
      }
      // Rule 8: the batch is a prefix of the queue order; what stayed queued comes after it.
      for (int batched : b.requests()) {
        for (int behind : b.queuedBehind()) {
          Outcome x = outcomes.get(batched);
          Outcome y = outcomes.get(behind);
          int lx = x.arrival.priority();
          int ly = y.arrival.priority();
          if (ly < lx || (ly == lx && y.arrivedAt < x.arrivedAt)) {
            v.add("rule 8: request " + behind + " (priority " + ly + ") stayed queued while "
                + batched + " (priority " + lx + ") ran in batch " + b.index());
          }
        }
      }
    }
    for (Outcome o : outcomes) {
      Arrival a = o.arrival;
      if (o.refusedAtValidation != null) {
        boolean tooBig = batcher.batchable() && a.rows() > policy.maxBatchSize();
        boolean badPriority = a.priority() >= policy.priorityLevels();
        if (o.refusedAtValidation != ErrorCode.INVALID_INPUT || !(tooBig || badPriority)) {
          v.add("rule 2: request " + o.id + " refused with " + o.refusedAtValidation);
        }
        continue;
      }
      CompletableFuture<InferenceResult> f = o.future;
      if (f == null || !f.isDone()) {
        v.add("rule 1/9: request " + o.id + " never completed");
        continue;
      }
      if (o.releases.get() != 1) {
        v.add("rule 1: request " + o.id + " released " + o.releases.get() + " times");
      }
      ErrorCode code = o.code();
      boolean ran = o.batch >= 0;
      if (code == null) {
        InferenceResult r = f.join();
        float[] y = r.requireOutput("y").toFloatArray();
        if (y.length != a.rows() * 4) {
          v.add("rule 1: request " + o.id + " got " + y.length / 4 + " rows, sent " + a.rows());
        }
        for (float value : y) {
          if (value != 2 * (o.id + 1)) {
            v.add("rule 1: request " + o.id + " got another request's rows: " + value);
            break;
          }
        }
        if (batches.get(o.batch).poisoned()) {
          v.add("rule 7: request " + o.id + " succeeded in failed batch " + o.batch);
        }
      } else {
        switch (code) {
          case QUEUE_FULL -> {
            if (o.queuedAtSubmit < policy.maxQueueSize() || ran) {
              v.add("rule 5: request " + o.id + " refused QUEUE_FULL with " + o.queuedAtSubmit
                  + " queued");
            }
            if (o.completedAt != o.arrivedAt) {
              v.add("rule 5: QUEUE_FULL for " + o.id + " was not immediate");
            }
          }
          case TIMEOUT -> {
            // A request whose deadline passes while its batch runs is answered at the deadline.
            if (ran && batches.get(o.batch).finishedAt() <= o.deadline) {
              v.add("rule 6: request " + o.id + " timed out but its batch " + o.batch
                  + " finished before its deadline");
            }
            if (o.completedAt != o.deadline) {
              v.add("rule 6: request " + o.id + " timed out at " + o.completedAt + ", deadline "
                  + o.deadline);
            }
          }
          case BACKEND_ERROR -> {
            if (!ran || !batches.get(o.batch).poisoned()) {
              v.add("rule 7: request " + o.id + " failed outside a failed batch");
            }
          }
          case SHUTTING_DOWN -> {
            if (ran || draining) {
              v.add("rule 9: request " + o.id + " failed SHUTTING_DOWN (ran=" + ran + ")");
            }
          }
          default -> v.add("request " + o.id + " failed with " + code);
        }
      }
      if (ran && o.dispatchedAt >= o.deadline) {
        v.add("rule 6: request " + o.id + " ran after its deadline");
      }
    }
    if (pmax < 1) {
      v.add("no preferred size");
    }
    return v;
  }
}
