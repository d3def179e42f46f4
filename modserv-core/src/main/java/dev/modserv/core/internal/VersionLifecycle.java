package dev.modserv.core.internal;

import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServerListener;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.ServingMetrics;
import dev.modserv.core.Ticker;
import dev.modserv.core.VersionPolicy;
import dev.modserv.spi.Backend;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongConsumer;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lifecycle of versions: load, warm up and make ready on the executor; drain, unload and
 * close. State moves go through {@link ModelVersion}'s transition methods; structural changes of
 * a name hold its {@link ModelEntry}'s lock, and nothing is closed while that lock is held (closes
 * go to the close executor).
 */
final class VersionLifecycle {
  private static final Logger log = LoggerFactory.getLogger(VersionLifecycle.class);

  private final ModelTable table;
  private final ModelCache cache;
  private final BackendCatalog catalog;
  private final Executor executor;
  private final Executor closeExecutor;
  private final ScheduledExecutorService scheduler;
  private final Ticker ticker;
  private final InstantSource clock;
  private final ServingMetrics metrics;
  private final ModelServerListener listener;
  /** Drops what the caches hold for a load of a version, once that load closed. */
  private final LongConsumer dropCached;

  VersionLifecycle(ModelTable table, ModelCache cache, BackendCatalog catalog, Executor executor,
      Executor closeExecutor, ScheduledExecutorService scheduler, Ticker ticker,
      InstantSource clock, ServingMetrics metrics, ModelServerListener listener,
      LongConsumer dropCached) {
    this.table = table;
    this.cache = cache;
    this.catalog = catalog;
    this.executor = executor;
    this.closeExecutor = closeExecutor;
    this.scheduler = scheduler;
    this.ticker = ticker;
    this.clock = clock;
    this.metrics = metrics;
    this.listener = listener;
    this.dropCached = dropCached;
  }

  // ---------------------------------------------------------------- load

  /** Loads a new version now; see {@code ModelRegistry.load}. */
  CompletableFuture<ModelStatus> load(ModelEntry e, long version, ModelSource source) {
    ModelVersion v;
    synchronized (e) {
      ModelConfig config = e.config;
      if (config.versionPolicy() instanceof VersionPolicy.Specific s
          && !s.versions().contains(version)) {
        return CompletableFuture.failedFuture(new ModelServingException(ErrorCode.LOAD_FAILED,
            "version " + version + " of '" + e.name + "' is not in its version policy " + s
                + "; change the policy or load one of those versions"));
      }
      ModelVersion existing = e.versions.get(version);
      if (existing != null && existing.state() != ModelState.FAILED) {
        return CompletableFuture.failedFuture(new ModelServingException(ErrorCode.LOAD_FAILED,
            "version " + version + " of '" + e.name + "' is already " + existing.state()
                + "; unload it (and wait for the unload) before loading it again"));
      }
      v = newVersion(e, version, source);
    }
    return start(e, v, source);
  }

  /** Creates and lists a LOADING version; caller holds the entry's lock. */
  ModelVersion newVersion(ModelEntry e, long version, ModelSource source) {
    ServingMetrics.VersionMetrics vm = metrics.version(e.name, version);
    ModelVersion[] self = new ModelVersion[1];
    ModelVersion v = new ModelVersion(e.name, version, e.config, vm, ticker.read(),
        closeExecutor, () -> {
          dropCached.accept(self[0].load);
          closed(e, self[0]);
        });
    self[0] = v;
    v.bindGauges();
    e.versions.put(version, v);
    e.sources.put(version, source);
    e.changed();
    return v;
  }

  /** Starts the load of a version {@link #newVersion} listed; returns its load future. */
  CompletableFuture<ModelStatus> start(ModelEntry e, ModelVersion v, ModelSource source) {
    listener.loadStarted(v.name, v.version);
    try {
      executor.execute(() -> runLoad(e, v, source));
    } catch (RejectedExecutionException rejected) {
      fail(e, v, ModelTable.shuttingDown("the server's executor refused the load"));
    }
    return v.loadFuture;
  }

  private void runLoad(ModelEntry e, ModelVersion v, ModelSource source) {
    try {
      ModelMetadata metadata = loadModel(v, source);
      long warmStart = ticker.read();
      WarmUp.run(v, metadata);
      Duration warmup = Duration.ofNanos(ticker.read() - warmStart);
      v.warmupTook(warmup);
      listener.warmupFinished(v.name, v.version, warmup);
      prepareQueues(v, metadata);
    } catch (Throwable t) {
      fail(e, v, asLoadFailure(v, source, t));
      if (t instanceof VirtualMachineError vme) {
        throw vme;
      }
      return;
    }
    becomeReady(e, v);
  }

  /** LOADING → WARMING: reserves memory, loads the engine's model and reads its metadata. */
  private ModelMetadata loadModel(ModelVersion v, ModelSource source) throws Exception {
    Backend backend = catalog.select(source, v.config.backend());
    long declared = v.config.memoryBytes();
    long estimate = declared > 0 ? declared : ModelCache.estimate(backend, source);
    cache.reserve(v, estimate);
    log.info("loading '{}' version {} from {} with {}", v.name, v.version, source.location(),
        backend.name());
    LoadedModel model = backend.load(source);
    v.attach(model);
    cache.settle(v, estimate, declared > 0 ? -1 : model.memoryBytes());
    ModelMetadata metadata = model.metadata();
    v.warming(metadata);
    return metadata;
  }

  private void prepareQueues(ModelVersion v, ModelMetadata metadata) {
    LoadedModel model = v.model();
    v.batcher(new Batcher(v.name, v.version, metadata, v.config.batching(), instances(v, model),
        model::run, executor,
        (task, delay) -> scheduler.schedule(task, delay, TimeUnit.NANOSECONDS), ticker,
        v.metrics));
    if (metadata.has(Capability.GENERATIVE)) {
      v.generations(new GenerationScheduler("'" + v.name + "' version " + v.version, model,
          model.generationSlots(), v.config.batching().maxQueueSize(), executor, scheduler,
          ticker, v.metrics));
    }
  }

  /** The engine calls a version may run at once: its policy's, else what its engine says. */
  private static int instances(ModelVersion v, LoadedModel model) {
    java.util.OptionalInt set = v.config.batching().instances();
    if (set.isPresent()) {
      return set.getAsInt();
    }
    int engine = model.concurrentRuns();
    if (engine < 1) {
      log.warn("'{}' version {}: its engine says it runs {} batches at once; running 1", v.name,
          v.version, engine);
      return 1;
    }
    return engine;
  }

  /** WARMING → READY, or → DRAINING when it was unloaded (or the server closed) meanwhile. */
  private void becomeReady(ModelEntry e, ModelVersion v) {
    boolean ready;
    synchronized (e) {
      ready = !table.isClosed() && v.readyUnlessUnloaded(clock.instant(), ticker.read());
      if (ready) {
        e.changed();
      }
    }
    long loadNanos = ticker.read() - v.loadStartNanos;
    metrics.loadFinished(v.name, v.version, loadNanos, ready);
    if (!ready) {
      v.draining();
      v.closeToNewLeases();
      failAfterClose(v, ModelTable.shuttingDown(
          "version " + v.version + " of '" + v.name + "' was unloaded while loading"));
      return;
    }
    log.info("'{}' version {} is ready ({} ms)", v.name, v.version, loadNanos / 1_000_000);
    listener.ready(v.name, v.version, Duration.ofNanos(loadNanos));
    applyPolicy(e);
    v.loadFuture.complete(v.status(e.labelsOf(v.version)));
  }

  private void fail(ModelEntry e, ModelVersion v, ModelServingException failure) {
    log.warn("'{}' version {} failed to load: {}", v.name, v.version, failure.getMessage());
    boolean remove;
    synchronized (e) {
      v.failed(failure);
      e.changed();
      remove = v.unloadRequested() || table.isClosed();
    }
    metrics.loadFinished(v.name, v.version, ticker.read() - v.loadStartNanos, false);
    listener.loadFailed(v.name, v.version, failure);
    // Frees whatever the engine had loaded; a FAILED version stays listed with its cause.
    v.closeToNewLeases();
    if (remove) {
      synchronized (e) {
        e.versions.remove(v.version, v);
        e.changed();
      }
    }
    failAfterClose(v, failure);
  }

  /**
   * Fails the load once the engine's model (if any) closed on the close executor, so that whoever
   * waits for the load finds its memory given back.
   */
  private static void failAfterClose(ModelVersion v, ModelServingException failure) {
    v.closedFuture.whenComplete((closed, error) -> v.loadFuture.completeExceptionally(failure));
  }

  private static ModelServingException asLoadFailure(ModelVersion v, ModelSource source,
      Throwable t) {
    if (t instanceof ModelServingException mse
        && (mse.code() == ErrorCode.LOAD_FAILED || mse.code() == ErrorCode.SHUTTING_DOWN
            || mse.code() == ErrorCode.INSUFFICIENT_MEMORY)) {
      return mse;
    }
    return new ModelServingException(ErrorCode.LOAD_FAILED,
        "version " + v.version + " of '" + v.name + "' failed to load from " + source.location()
            + ": " + t, t);
  }

  // ---------------------------------------------------------------- policy, drain, unload

  /** Drains ready versions outside the policy; a labelled version is kept. */
  void applyPolicy(ModelEntry e) {
    synchronized (e) {
      if (!(e.config.versionPolicy() instanceof VersionPolicy.Latest latest)) {
        return;
      }
      int kept = 0;
      for (ModelVersion v : e.versions.descendingMap().values()) {
        if (v.state() != ModelState.READY) {
          continue;
        }
        if (kept < latest.count()) {
          kept++;
        } else if (!e.labels.containsValue(v.version)) {
          log.info("'{}' version {} is outside version policy {}; unloading", e.name, v.version,
              latest);
          e.sources.remove(v.version);   // the policy retired it: no load on demand
          e.lastLoaded.remove(v.version);
          startDrain(e, v);
        }
      }
    }
  }

  /** Moves a ready version to DRAINING; caller holds the entry's lock. */
  private void startDrain(ModelEntry e, ModelVersion v) {
    v.draining();
    e.changed();
    listener.drainStarted(v.name, v.version);
    v.closeToNewLeases();
    Duration grace = v.config.drainGrace();
    Batcher batcher = v.batcherOrNull();
    if (batcher != null && !v.isClosed()) {
      afterGrace(grace, batcher::drain, () -> batcher.failQueued(ModelTable.shuttingDown(
          "version " + v.version + " of '" + v.name + "' unloaded before the request started:"
              + " the drain grace of " + grace + " ended")));
    }
    GenerationScheduler generations = v.generationsOrNull();
    if (generations != null) {
      afterGrace(grace, generations::drain, () -> generations.failWaiting(
          ModelTable.shuttingDown("version " + v.version + " of '" + v.name + "' unloaded"
              + " before the generation started: the drain grace of " + grace + " ended")));
    }
  }

  /** Fails what waits at once with no grace; else drains, and fails what is left after it. */
  private void afterGrace(Duration grace, Runnable drain, Runnable failWaiting) {
    if (grace.isZero()) {
      failWaiting.run();
    } else {
      drain.run();
      scheduler.schedule(failWaiting, grace.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** Runs on the close executor once the version's model closed. */
  private void closed(ModelEntry e, ModelVersion v) {
    boolean failed = v.state() == ModelState.FAILED;
    if (!failed && e.sources.containsKey(v.version)) {
      e.lastLoaded.put(v.version, v.status(Set.of()));
    }
    cache.giveBack(v);
    synchronized (e) {
      if (!failed) {
        e.versions.remove(v.version, v);
      }
      e.changed();
    }
    if (!failed) {
      log.info("'{}' version {} unloaded", v.name, v.version);
      listener.unloaded(v.name, v.version);
    }
  }

  /** Unloads one version; caller holds the entry's lock. Completes once its model closed. */
  CompletableFuture<Void> unload(ModelEntry e, ModelVersion v) {
    e.labels.values().removeIf(target -> target == v.version);
    e.sources.remove(v.version);
    e.lastLoaded.remove(v.version);
    switch (v.state()) {
      case FAILED -> {
        e.versions.remove(v.version, v);
        e.changed();
        return CompletableFuture.completedFuture(null);
      }
      case LOADING, WARMING -> v.requestUnload();
      case READY -> startDrain(e, v);
      case DRAINING, UNLOADED -> { }
    }
    return v.closedFuture;
  }

  /** Unloads every version of {@code e}. */
  CompletableFuture<Void> unloadAll(ModelEntry e) {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    synchronized (e) {
      for (ModelVersion v : List.copyOf(e.versions.values())) {
        all.add(unload(e, v));
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  /**
   * Refuses new work, unloads every version (each with its drain grace); completes once every
   * model closed.
   */
  CompletableFuture<Void> closeAll() {
    table.close();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (ModelEntry e : table.entries()) {
      all.add(unloadAll(e));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }
}
