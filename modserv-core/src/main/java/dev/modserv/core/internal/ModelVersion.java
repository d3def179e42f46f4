package dev.modserv.core.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.modserv.api.ModelMetadata;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.ServingMetrics;
import dev.modserv.spi.LoadedModel;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One version of a model: its lifecycle state, its in-flight leases and its native model.
 *
 * <p>The state moves only through the transition methods, which refuse an illegal move: {@code
 * LOADING → WARMING → READY → DRAINING → UNLOADED}, a load that was unloaded meanwhile goes {@code
 * WARMING → DRAINING}, and a failed load goes to {@code FAILED} from {@code LOADING} or {@code
 * WARMING}. Moves happen under this version's monitor; requests read the state without it.
 *
 * <p>The lease word packs a "no new leases" flag and the count of leases held. A request takes a
 * lease with a compare-and-set that fails once the flag is set, so after {@link #closeToNewLeases}
 * the count only goes down; whoever brings it to zero with the flag set (the last release, or the
 * drain itself when nothing was in flight) closes the model, and {@link #closeOnce} makes sure
 * that happens once. The close itself runs on the close executor, never on the thread that let go
 * (a timer, a thread holding a lock, a cleaner).
 */
public final class ModelVersion {
  private static final Logger log = LoggerFactory.getLogger(ModelVersion.class);
  private static final long NO_NEW_LEASES = 1L << 62;
  private static final Map<ModelState, Set<ModelState>> LEGAL = legalMoves();

  private static final AtomicLong LOADS = new AtomicLong();

  final String name;
  final long version;
  /**
   * Which load this is, unique in the process: a version number loaded again gets a new one, so
   * that nothing cached for an earlier load of the number reaches it.
   */
  final long load = LOADS.incrementAndGet();
  final ModelConfig config;
  final ServingMetrics.VersionMetrics metrics;
  final long loadStartNanos;

  /** Written under this version's monitor (by {@link #moveTo}); read freely. */
  private volatile ModelState state = ModelState.LOADING;
  private volatile @Nullable LoadedModel model;
  private volatile @Nullable ModelMetadata metadata;
  private volatile @Nullable Throwable failure;
  private volatile @Nullable Instant loadedAt;
  private volatile boolean warmedUp;
  private volatile @Nullable Duration warmupTime;
  @GuardedBy("this")
  private boolean unloadRequested;
  /** Bytes this version holds in the memory budget; given back once when it closes. */
  private final AtomicLong weight = new AtomicLong();
  /** When the last request finished (ticker nanos), for idle eviction. */
  private volatile long lastUsedNanos;
  /** Completes when the load ends, ready or not. */
  final CompletableFuture<ModelStatus> loadFuture = new CompletableFuture<>();

  private final AtomicLong leases = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();
  final CompletableFuture<Void> closedFuture = new CompletableFuture<>();
  private volatile @Nullable Batcher batcher;
  private volatile @Nullable GenerationScheduler generations;
  private final Executor closeExecutor;
  private final Runnable onClosed;

  ModelVersion(String name, long version, ModelConfig config,
      ServingMetrics.VersionMetrics metrics, long loadStartNanos, Executor closeExecutor,
      Runnable onClosed) {
    this.name = name;
    this.version = version;
    this.config = config;
    this.metrics = metrics;
    this.loadStartNanos = loadStartNanos;
    this.closeExecutor = closeExecutor;
    this.onClosed = onClosed;
  }

  /** Binds the version's gauges (requests in flight, state); after construction, not in it. */
  void bindGauges() {
    metrics.active(this::inFlight);
    metrics.state(this::state);
  }

  private static Map<ModelState, Set<ModelState>> legalMoves() {
    Map<ModelState, Set<ModelState>> moves = new EnumMap<>(ModelState.class);
    moves.put(ModelState.LOADING, EnumSet.of(ModelState.WARMING, ModelState.FAILED));
    moves.put(ModelState.WARMING,
        EnumSet.of(ModelState.READY, ModelState.DRAINING, ModelState.FAILED));
    moves.put(ModelState.READY, EnumSet.of(ModelState.DRAINING));
    moves.put(ModelState.DRAINING, EnumSet.of(ModelState.UNLOADED));
    moves.put(ModelState.UNLOADED, EnumSet.noneOf(ModelState.class));
    moves.put(ModelState.FAILED, EnumSet.noneOf(ModelState.class));
    return moves;
  }

  public String name() {
    return name;
  }

  public long version() {
    return version;
  }

  public ModelState state() {
    return state;
  }

  /** Moves to {@code next}; refuses a move the lifecycle does not have. */
  private synchronized void moveTo(ModelState next) {
    ModelState now = state;
    Set<ModelState> legal = LEGAL.get(now);
    if (legal == null || !legal.contains(next)) {
      throw new IllegalStateException("'" + name + "' version " + version + " cannot go from "
          + now + " to " + next);
    }
    state = next;
  }

  /** Holds the engine's model as soon as it loaded, so that a failure after it still closes it. */
  void attach(LoadedModel model) {
    this.model = model;
  }

  /** LOADING → WARMING, with the model's metadata. */
  void warming(ModelMetadata metadata) {
    this.metadata = metadata;
    moveTo(ModelState.WARMING);
  }

  /**
   * WARMING → READY at {@code at}, unless an unload was requested meanwhile: then false, and the
   * caller drains the version instead.
   */
  synchronized boolean readyUnlessUnloaded(Instant at, long nowNanos) {
    if (unloadRequested) {
      return false;
    }
    this.lastUsedNanos = nowNanos;
    this.loadedAt = at;
    moveTo(ModelState.READY);
    return true;
  }

  /** Asks a version that is still loading to unload once its load ends. */
  synchronized void requestUnload() {
    unloadRequested = true;
  }

  synchronized boolean unloadRequested() {
    return unloadRequested;
  }

  /** READY (or WARMING, for a load unloaded meanwhile) → DRAINING. */
  void draining() {
    moveTo(ModelState.DRAINING);
  }

  /** LOADING or WARMING → FAILED, keeping the cause to show. */
  void failed(Throwable cause) {
    this.failure = cause;
    moveTo(ModelState.FAILED);
  }

  /** The loaded model; only called while holding a lease or during warm-up. */
  LoadedModel model() {
    LoadedModel m = model;
    if (m == null) {
      throw new IllegalStateException("version " + version + " of '" + name + "' has no model");
    }
    return m;
  }

  /** The batcher; set before the version becomes ready. */
  Batcher batcher() {
    Batcher b = batcher;
    if (b == null) {
      throw new IllegalStateException("version " + version + " of '" + name + "' has no batcher");
    }
    return b;
  }

  @Nullable Batcher batcherOrNull() {
    return batcher;
  }

  void batcher(Batcher batcher) {
    this.batcher = batcher;
  }

  /** The generation scheduler of a GENERATIVE model; set before the version becomes ready. */
  @Nullable GenerationScheduler generationsOrNull() {
    return generations;
  }

  void generations(GenerationScheduler scheduler) {
    this.generations = scheduler;
  }

  /** Returns the metadata once loaded, else null. */
  @Nullable ModelMetadata metadataOrNull() {
    return metadata;
  }

  public ModelMetadata metadata() {
    ModelMetadata m = metadata;
    if (m == null) {
      throw new IllegalStateException("version " + version + " of '" + name + "' is not loaded");
    }
    return m;
  }

  void warmedUp(boolean done) {
    this.warmedUp = done;
  }

  void warmupTook(Duration took) {
    this.warmupTime = took;
  }

  @Nullable Throwable failure() {
    return failure;
  }

  /** Bytes this version holds in the memory budget. */
  long weight() {
    return weight.get();
  }

  void weight(long bytes) {
    weight.set(bytes);
  }

  /** Takes this version's bytes out of it, once: the caller gives them back to the budget. */
  long takeWeight() {
    return weight.getAndSet(0);
  }

  long lastUsedNanos() {
    return lastUsedNanos;
  }

  void touch(long nowNanos) {
    this.lastUsedNanos = nowNanos;
  }

  /** Takes a lease if the version is ready and not draining. */
  boolean tryAcquire() {
    while (true) {
      long word = leases.get();
      if ((word & NO_NEW_LEASES) != 0 || state != ModelState.READY) {
        return false;
      }
      if (leases.compareAndSet(word, word + 1)) {
        return true;
      }
    }
  }

  /** Releases a lease; the last one after a drain started closes the model. */
  void release() {
    long word = leases.decrementAndGet();
    if (word == NO_NEW_LEASES) {
      closeOnce();
    } else if ((word & ~NO_NEW_LEASES) < 0) {
      throw new IllegalStateException("lease released twice on '" + name + "' version " + version);
    }
  }

  /** Number of leases held now (in-flight requests). */
  int inFlight() {
    return (int) (leases.get() & ~NO_NEW_LEASES);
  }

  /** Refuses new leases; closes at once when none is held, else on the last release. */
  void closeToNewLeases() {
    long before = leases.getAndUpdate(w -> w | NO_NEW_LEASES);
    if (before == 0) {
      closeOnce();
    }
  }

  /**
   * Stops new leases only if none is held now; the caller then closes. An idle eviction never
   * touches a version in use.
   */
  boolean stopIfIdle() {
    return leases.compareAndSet(0, NO_NEW_LEASES);
  }

  /**
   * Closes the native model exactly once, on the close executor, and reports it; {@link
   * #closedFuture} completes after the model closed. A FAILED version keeps its state.
   */
  void closeOnce() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (state != ModelState.FAILED) {
      moveTo(ModelState.UNLOADED);
    }
    try {
      closeExecutor.execute(this::closeNow);
    } catch (RejectedExecutionException serverClosed) {
      // The server gave up waiting and stopped its close threads: close here, still once.
      closeNow();
    }
  }

  private void closeNow() {
    LoadedModel m = model;
    try {
      if (m != null) {
        m.close();
      }
    } catch (Exception | LinkageError e) {
      log.warn("closing version {} of '{}' failed", version, name, e);
    } finally {
      try {
        metrics.close();
        onClosed.run();
      } finally {
        closedFuture.complete(null);
      }
    }
  }

  boolean isClosed() {
    return closed.get();
  }

  ModelStatus status(Set<String> labels) {
    Throwable f = failure;
    Batcher b = batcher;
    return new ModelStatus(name, version, state, labels, Optional.ofNullable(metadata),
        Optional.ofNullable(loadedAt), warmedUp, weight.get(), b == null ? 0 : b.queued(),
        config.batching().maxQueueSize(),
        f == null ? Optional.empty() : Optional.of(String.valueOf(f.getMessage())),
        warmedUp ? Optional.ofNullable(warmupTime) : Optional.empty());
  }

  @Override
  public String toString() {
    return "'" + name + "' version " + version + " (" + state + ")";
  }
}
