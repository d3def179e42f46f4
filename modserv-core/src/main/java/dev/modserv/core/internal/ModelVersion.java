package dev.modserv.core.internal;

import dev.modserv.api.ModelMetadata;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.ServingMetrics;
import dev.modserv.spi.LoadedModel;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One version of a model and its in-flight leases.
 *
 * <p>The lease word packs a "no new leases" flag and the count of leases held. A request takes a
 * lease with a compare-and-set that fails once the flag is set, so after {@link #closeToNewLeases}
 * the count only goes down; whoever brings it to zero with the flag set (the last release, or the
 * drain itself when nothing was in flight) closes the model, and {@link #closeOnce} makes sure
 * that happens once.
 */
public final class ModelVersion {
  private static final Logger log = LoggerFactory.getLogger(ModelVersion.class);
  private static final long NO_NEW_LEASES = 1L << 62;

  final String name;
  final long version;
  final ModelConfig config;
  final ServingMetrics.VersionMetrics metrics;
  final long loadStartNanos;

  private volatile ModelState state = ModelState.LOADING;
  private volatile @Nullable LoadedModel model;
  private volatile @Nullable ModelMetadata metadata;
  private volatile @Nullable Throwable failure;
  private volatile @Nullable Instant loadedAt;
  private volatile boolean warmedUp;
  volatile boolean unloadRequested;
  /** Bytes this version holds in the memory budget; given back when it closes. */
  volatile long weight;
  /** When the last request finished (ticker nanos), for idle eviction. */
  volatile long lastUsedNanos;
  /** Completes when the load ends, ready or not. */
  final CompletableFuture<ModelStatus> loadFuture = new CompletableFuture<>();

  private final AtomicLong leases = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();
  final CompletableFuture<Void> closedFuture = new CompletableFuture<>();
  private volatile @Nullable Batcher batcher;
  private volatile @Nullable GenerationScheduler generations;
  private final Runnable onClosed;

  ModelVersion(
      String name,
      long version,
      ModelConfig config,
      ServingMetrics.VersionMetrics metrics,
      long loadStartNanos,
      Runnable onClosed) {
    this.name = name;
    this.version = version;
    this.config = config;
    this.metrics = metrics;
    this.loadStartNanos = loadStartNanos;
    this.onClosed = onClosed;
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

  void state(ModelState next) {
    this.state = next;
  }

  /** The loaded model; only called while holding a lease or during warm-up. */
  LoadedModel model() {
    LoadedModel m = model;
    if (m == null) {
      throw new IllegalStateException("version " + version + " of '" + name + "' has no model");
    }
    return m;
  }

  @Nullable LoadedModel modelOrNull() {
    return model;
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

  void loaded(LoadedModel model, ModelMetadata metadata) {
    this.model = model;
    this.metadata = metadata;
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

  void ready(Instant at) {
    this.loadedAt = at;
    this.state = ModelState.READY;
  }

  void warmedUp(boolean done) {
    this.warmedUp = done;
  }

  void failed(Throwable cause) {
    this.failure = cause;
    this.state = ModelState.FAILED;
  }

  @Nullable Throwable failure() {
    return failure;
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

  /** Closes the native model exactly once and reports it. */
  void closeOnce() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (state != ModelState.FAILED) {
      state = ModelState.UNLOADED;
    }
    LoadedModel m = model;
    if (m != null) {
      try {
        m.close();
      } catch (Exception | LinkageError e) {
        log.warn("closing version {} of '{}' failed", version, name, e);
      }
    }
    metrics.close();
    try {
      onClosed.run();
    } finally {
      closedFuture.complete(null);
    }
  }

  boolean isClosed() {
    return closed.get();
  }

  ModelStatus status(Set<String> labels) {
    Throwable f = failure;
    return new ModelStatus(
        name,
        version,
        state,
        labels,
        Optional.ofNullable(metadata),
        Optional.ofNullable(loadedAt),
        warmedUp,
        weight,
        batcher == null ? 0 : batcher.queued(),
        config.batching().maxQueueSize(),
        f == null ? Optional.empty() : Optional.of(String.valueOf(f.getMessage())));
  }

  @Override
  public String toString() {
    return "'" + name + "' version " + version + " (" + state + ")";
  }
}
