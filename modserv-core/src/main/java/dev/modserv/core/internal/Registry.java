package dev.modserv.core.internal;

import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.api.Timings;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelRegistry;
import dev.modserv.core.ModelServerListener;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.ServingMetrics;
import dev.modserv.core.ServingMetrics.Outcome;
import dev.modserv.core.Ticker;
import dev.modserv.core.VersionPolicy;
import dev.modserv.spi.Backend;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry and the request path behind {@code ModelServer}.
 *
 * <p>Structural changes of one model name (load, ready, drain, labels) hold that name's lock;
 * requests never take it: they resolve a version from concurrent maps and take a lease by
 * compare-and-set. Each structural change bumps the name's epoch, so a request whose resolution
 * raced with a switch (it saw the old version just as it began draining) resolves again instead
 * of failing.
 */
public final class Registry implements ModelRegistry {
  private static final Logger log = LoggerFactory.getLogger(Registry.class);
  private static final int MAX_RESOLVE_ATTEMPTS = 64;

  private final Map<String, Entry> models = new ConcurrentHashMap<>();
  private final BackendCatalog catalog;
  private final Executor executor;
  private final ScheduledExecutorService scheduler;
  private final Ticker ticker;
  private final InstantSource clock;
  private final ServingMetrics metrics;
  private final ModelServerListener listener;
  private volatile boolean closed;
  private final MemoryBudget budget;
  private final Object evictionLock = new Object();

  /** The versions, labels and configuration of one model name. */
  private static final class Entry {
    final String name;
    final ConcurrentSkipListMap<Long, ModelVersion> versions = new ConcurrentSkipListMap<>();
    final Map<String, Long> labels = new ConcurrentHashMap<>();
    final AtomicLong epoch = new AtomicLong();
    volatile ModelConfig config = ModelConfig.defaults();
    /** Where each version came from, to load it again on demand after an idle eviction. */
    final Map<Long, ModelSource> sources = new ConcurrentHashMap<>();
    /** The status of each registered version when it last closed, for {@link #registered()}. */
    final Map<Long, ModelStatus> lastLoaded = new ConcurrentHashMap<>();
    /**
     * Requests waiting for a load of this model to finish. While there are any, no version is
     * unloaded for its keep-alive: with a keep-alive of 0, the first answer would otherwise unload
     * the version that the rest of a burst waited for.
     */
    final AtomicInteger awaitingLoad = new AtomicInteger();

    Entry(String name) {
      this.name = name;
    }

    Set<String> labelsOf(long version) {
      Set<String> out = new TreeSet<>();
      labels.forEach((label, v) -> {
        if (v == version) {
          out.add(label);
        }
      });
      return out;
    }
  }

  public Registry(
      BackendCatalog catalog,
      Executor executor,
      ScheduledExecutorService scheduler,
      Ticker ticker,
      InstantSource clock,
      ServingMetrics metrics,
      ModelServerListener listener,
      long maxLoadedBytes) {
    this.budget = new MemoryBudget(maxLoadedBytes);
    this.catalog = catalog;
    this.executor = executor;
    this.scheduler = scheduler;
    this.ticker = ticker;
    this.clock = clock;
    this.metrics = metrics;
    this.listener = listener;
    metrics.loadedModels(this::readyCount);
    scheduler.scheduleWithFixedDelay(this::evictExpired, 100, 100, TimeUnit.MILLISECONDS);
  }

  private int readyCount() {
    int n = 0;
    for (Entry e : models.values()) {
      for (ModelVersion v : e.versions.values()) {
        if (v.state() == ModelState.READY) {
          n++;
        }
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- configuration and status

  @Override
  public void configure(String name, ModelConfig config) {
    ModelRef.requireName(name);
    java.util.Objects.requireNonNull(config, "config");
    Entry e = models.computeIfAbsent(name, Entry::new);
    synchronized (e) {
      e.config = config;
    }
  }

  @Override
  public ModelConfig config(String name) {
    Entry e = models.get(name);
    return e == null ? ModelConfig.defaults() : e.config;
  }

  @Override
  public List<ModelStatus> models() {
    List<ModelStatus> out = new ArrayList<>();
    new TreeSet<>(models.keySet()).forEach(name -> out.addAll(versions(name)));
    return out;
  }

  @Override
  public Optional<ModelMetadata> metadata(ModelRef ref) {
    Entry e = models.get(ref.name());
    ModelVersion v = e == null ? null : resolve(e, ref);
    return v == null || v.state() != ModelState.READY ? Optional.empty()
        : Optional.ofNullable(v.metadataOrNull());
  }

  @Override
  public List<ModelStatus> versions(String name) {
    Entry e = models.get(name);
    if (e == null) {
      return List.of();
    }
    List<ModelStatus> out = new ArrayList<>();
    for (ModelVersion v : e.versions.values()) {
      out.add(v.status(e.labelsOf(v.version)));
    }
    return out;
  }

  @Override
  public List<ModelStatus> registered() {
    List<ModelStatus> out = new ArrayList<>();
    for (String name : new TreeSet<>(models.keySet())) {
      Entry e = models.get(name);
      if (e == null) {
        continue;
      }
      for (long version : new TreeSet<>(e.sources.keySet())) {
        if (e.versions.containsKey(version)) {
          continue;
        }
        ModelStatus last = e.lastLoaded.get(version);
        ModelSource source = e.sources.get(version);
        out.add(new ModelStatus(name, version, ModelState.UNLOADED, Set.of(),
            last == null ? Optional.empty() : last.metadata(), Optional.empty(), false,
            last != null ? last.memoryBytes() : source == null ? 0 : estimate(e.config, source),
            0, e.config.batching().maxQueueSize(), Optional.empty()));
      }
    }
    return out;
  }

  @Override
  public Optional<ModelStatus> status(String name, long version) {
    Entry e = models.get(name);
    if (e == null) {
      return Optional.empty();
    }
    ModelVersion v = e.versions.get(version);
    return v == null ? Optional.empty() : Optional.of(v.status(e.labelsOf(version)));
  }

  // ---------------------------------------------------------------- load

  @Override
  public CompletableFuture<ModelStatus> load(String name, long version, ModelSource source) {
    ModelRef.requireName(name);
    ModelRef.requireVersion(version);
    java.util.Objects.requireNonNull(source, "source");
    if (closed) {
      return CompletableFuture.failedFuture(shuttingDown("the server is closed; load refused"));
    }
    Entry e = models.computeIfAbsent(name, Entry::new);
    ModelVersion v;
    synchronized (e) {
      ModelConfig config = e.config;
      if (config.versionPolicy() instanceof VersionPolicy.Specific s
          && !s.versions().contains(version)) {
        return CompletableFuture.failedFuture(new ModelServingException(ErrorCode.LOAD_FAILED,
            "version " + version + " of '" + name + "' is not in its version policy " + s
                + "; change the policy or load one of those versions"));
      }
      ModelVersion existing = e.versions.get(version);
      if (existing != null && existing.state() != ModelState.FAILED) {
        return CompletableFuture.failedFuture(new ModelServingException(ErrorCode.LOAD_FAILED,
            "version " + version + " of '" + name + "' is already " + existing.state()
                + "; unload it (and wait for the unload) before loading it again"));
      }
      v = newVersion(e, version, source);
    }
    return start(e, v, source);
  }

  /** Creates and lists a LOADING version; caller holds the entry's lock. */
  private ModelVersion newVersion(Entry e, long version, ModelSource source) {
    ServingMetrics.VersionMetrics vm = metrics.version(e.name, version);
    ModelVersion[] self = new ModelVersion[1];
    ModelVersion v = new ModelVersion(e.name, version, e.config, vm, ticker.read(),
        () -> closed(e, self[0]));
    self[0] = v;
    e.versions.put(version, v);
    e.sources.put(version, source);
    e.epoch.incrementAndGet();
    return v;
  }

  private CompletableFuture<ModelStatus> start(Entry e, ModelVersion v, ModelSource source) {
    listener.loadStarted(v.name, v.version);
    CompletableFuture<ModelStatus> result = v.loadFuture;
    try {
      executor.execute(() -> runLoad(e, v, source, result));
    } catch (RejectedExecutionException rejected) {
      fail(e, v, shuttingDown("the server's executor refused the load"), result);
    }
    return result;
  }

  private void runLoad(
      Entry e, ModelVersion v, ModelSource source, CompletableFuture<ModelStatus> result) {
    try {
      Backend backend = catalog.select(source, v.config.backend());
      long estimate = v.config.memoryBytes() > 0 ? v.config.memoryBytes()
          : (long) (artifactBytes(source) * backend.memoryFactor());
      reserve(v, estimate);
      log.info("loading '{}' version {} from {} with {}", v.name, v.version, source.location(),
          backend.name());
      LoadedModel model = backend.load(source);
      long reported = v.config.memoryBytes() > 0 ? -1 : model.memoryBytes();
      if (reported >= 0 && reported != estimate) {
        budget.add(reported - estimate);
        v.weight = reported;
        if (budget.over()) {
          makeRoom(0, v);
          if (budget.over()) {
            closeQuietly(model, v);
            throw insufficient(v, reported);
          }
        }
      }
      ModelMetadata metadata;
      try {
        metadata = model.metadata();
      } catch (RuntimeException | LinkageError metadataFailure) {
        closeQuietly(model, v);
        throw metadataFailure;
      }
      v.loaded(model, metadata);
      v.state(ModelState.WARMING);
      long warmStart = ticker.read();
      warmUp(v, metadata);
      Duration warmTook = Duration.ofNanos(ticker.read() - warmStart);
      listener.warmupFinished(v.name, v.version, warmTook);
      v.batcher(newBatcher(v, metadata));
      if (metadata.has(Capability.GENERATIVE)) {
        v.generations(new GenerationScheduler("'" + v.name + "' version " + v.version,
            v.model(), v.model().generationSlots(), v.config.batching().maxQueueSize(), executor,
            scheduler, ticker, v.metrics));
      }
      boolean unloadInstead;
      synchronized (e) {
        unloadInstead = v.unloadRequested || closed;
        if (!unloadInstead) {
          v.lastUsedNanos = ticker.read();
          v.ready(clock.instant());
          e.epoch.incrementAndGet();
        }
      }
      long loadNanos = ticker.read() - v.loadStartNanos;
      if (unloadInstead) {
        metrics.loadFinished(v.name, v.version, loadNanos, false);
        v.state(ModelState.DRAINING);
        v.closeToNewLeases();
        result.completeExceptionally(
            shuttingDown("version " + v.version + " of '" + v.name + "' was unloaded while loading"));
        return;
      }
      metrics.loadFinished(v.name, v.version, loadNanos, true);
      log.info("'{}' version {} is ready ({} ms)", v.name, v.version, loadNanos / 1_000_000);
      listener.ready(v.name, v.version, Duration.ofNanos(loadNanos));
      applyPolicy(e);
      result.complete(v.status(e.labelsOf(v.version)));
    } catch (Throwable t) {
      ModelServingException failure = asLoadFailure(v, source, t);
      fail(e, v, failure, result);
      if (t instanceof VirtualMachineError vme) {
        throw vme;
      }
    }
  }

  private void fail(
      Entry e, ModelVersion v, ModelServingException failure, CompletableFuture<ModelStatus> result) {
    log.warn("'{}' version {} failed to load: {}", v.name, v.version, failure.getMessage());
    boolean remove;
    synchronized (e) {
      v.failed(failure);
      e.epoch.incrementAndGet();
      remove = v.unloadRequested || closed;
    }
    metrics.loadFinished(v.name, v.version, ticker.read() - v.loadStartNanos, false);
    listener.loadFailed(v.name, v.version, failure);
    // Frees whatever the engine had loaded; a FAILED version stays listed with its cause.
    v.closeToNewLeases();
    if (remove) {
      removeFailed(e, v);
    }
    result.completeExceptionally(failure);
  }

  private static ModelServingException asLoadFailure(ModelVersion v, ModelSource source, Throwable t) {
    if (t instanceof ModelServingException mse
        && (mse.code() == ErrorCode.LOAD_FAILED || mse.code() == ErrorCode.SHUTTING_DOWN
            || mse.code() == ErrorCode.INSUFFICIENT_MEMORY)) {
      return mse;
    }
    return new ModelServingException(ErrorCode.LOAD_FAILED,
        "version " + v.version + " of '" + v.name + "' failed to load from " + source.location()
            + ": " + t, t);
  }

  private void warmUp(ModelVersion v, ModelMetadata metadata) throws Exception {
    ModelConfig config = v.config;
    if (!config.warmup() || !metadata.has(Capability.TENSOR)) {
      v.warmedUp(false);
      return;
    }
    List<Map<String, Tensor>> samples = config.warmupSamples();
    if (samples.isEmpty()) {
      Optional<Map<String, Tensor>> zeros = zeros(metadata);
      if (zeros.isEmpty()) {
        log.info("'{}' version {}: no warm-up, an input has an unknown rank; declare warm-up"
            + " samples in its configuration", v.name, v.version);
        return;
      }
      samples = List.of(zeros.get());
    }
    for (Map<String, Tensor> sample : samples) {
      try {
        InputValidator.validate(v.name, metadata, sample, Set.of());
        v.model().run(sample, Set.of());
      } catch (Exception e) {
        throw new ModelServingException(ErrorCode.LOAD_FAILED,
            "warm-up of '" + v.name + "' version " + v.version + " failed: " + e.getMessage(), e);
      }
    }
    v.warmedUp(true);
  }

  /** One request of zeros, one row wherever a dimension is dynamic. */
  static Optional<Map<String, Tensor>> zeros(ModelMetadata metadata) {
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (TensorSpec spec : metadata.inputs()) {
      if (!spec.isRankKnown()) {
        return Optional.empty();
      }
      long[] shape = spec.shape();
      for (int i = 0; i < shape.length; i++) {
        if (shape[i] == -1) {
          shape[i] = 1;
        }
      }
      inputs.put(spec.name(), Tensor.zeros(spec.dataType(), shape));
    }
    return inputs.isEmpty() ? Optional.empty() : Optional.of(inputs);
  }

  // ---------------------------------------------------------------- memory budget, idle models

  /** Registers a version to load on its first request, without loading it now. */
  @Override
  public void register(String name, long version, ModelSource source) {
    ModelRef.requireName(name);
    ModelRef.requireVersion(version);
    java.util.Objects.requireNonNull(source, "source");
    Entry e = models.computeIfAbsent(name, Entry::new);
    e.sources.put(version, source);
    e.epoch.incrementAndGet();
  }

  /** Reserves a loading version's estimate, evicting idle models if needed. */
  private void reserve(ModelVersion v, long estimate) {
    if (estimate > budget.max()) {
      throw insufficient(v, estimate);
    }
    if (!makeRoom(estimate, v)) {
      throw insufficient(v, estimate);
    }
    v.weight = estimate;
  }

  private ModelServingException insufficient(ModelVersion v, long needed) {
    return new ModelServingException(ErrorCode.INSUFFICIENT_MEMORY,
        "version " + v.version + " of '" + v.name + "' needs about " + mib(needed)
            + " but the server's budget is " + mib(budget.max()) + ", with " + mib(budget.used())
            + " held by models in use or loading; raise maxLoadedBytes, declare a smaller"
            + " memoryBytes, or unload a model");
  }

  private static String mib(long bytes) {
    return bytes >= (1L << 20) ? (bytes >> 20) + " MiB" : bytes + " bytes";
  }

  /**
   * Reserves {@code bytes}, evicting idle ready versions, least recently used first, until they
   * fit; false when they cannot fit even with every idle version gone.
   */
  private boolean makeRoom(long bytes, ModelVersion loading) {
    synchronized (evictionLock) {
      while (!budget.tryReserve(bytes)) {
        if (bytes == 0 && !budget.over()) {
          return true;
        }
        ModelVersion victim = null;
        Entry victimEntry = null;
        for (Entry e : models.values()) {
          for (ModelVersion v : e.versions.values()) {
            if (v != loading && v.state() == ModelState.READY && v.inFlight() == 0
                && (victim == null || v.lastUsedNanos < victim.lastUsedNanos)) {
              victim = v;
              victimEntry = e;
            }
          }
        }
        if (victim == null || victimEntry == null) {
          return false;
        }
        log.info("unloading idle '{}' version {} to make room for '{}' version {}",
            victim.name, victim.version, loading.name, loading.version);
        evictIdle(victimEntry, victim);
      }
      return true;
    }
  }

  /** Unloads a ready version if no request holds it; its source stays registered. */
  private boolean evictIdle(Entry e, ModelVersion v) {
    synchronized (e) {
      if (v.state() != ModelState.READY || !v.stopIfIdle()) {
        return false;
      }
      v.state(ModelState.DRAINING);
      e.epoch.incrementAndGet();
    }
    listener.drainStarted(v.name, v.version);
    v.closeOnce();
    return true;
  }

  /** Unloads versions idle for longer than their keep-alive. */
  private void evictExpired() {
    try {
      long now = ticker.read();
      for (Entry e : models.values()) {
        long keepAlive = e.config.keepAlive().toNanos();
        if (keepAlive < 0) {
          continue;
        }
        if (e.awaitingLoad.get() > 0) {
          continue;
        }
        for (ModelVersion v : e.versions.values()) {
          if (v.state() == ModelState.READY && v.inFlight() == 0
              && now - v.lastUsedNanos >= keepAlive && evictIdle(e, v)) {
            log.info("'{}' version {} unloaded after {} idle (keep-alive)", v.name, v.version,
                e.config.keepAlive());
          }
        }
      }
    } catch (RuntimeException ex) {
      log.warn("idle eviction failed; will try again", ex);
    }
  }

  /** Called when a request lets go of its version. */
  private void released(ModelVersion v) {
    v.lastUsedNanos = ticker.read();
    v.release();
    // The model's configuration now, not the version's at load: keep-alive may change since.
    Entry e = models.get(v.name);
    ModelConfig current = e == null ? v.config : e.config;
    if (current.keepAlive().isZero() && v.inFlight() == 0) {
      scheduler.execute(this::evictExpired);
    }
  }

  /** What a version not loaded now would take: declared, else artifact size times the factor. */
  private long estimate(ModelConfig config, ModelSource source) {
    if (config.memoryBytes() > 0) {
      return config.memoryBytes();
    }
    try {
      return (long) (artifactBytes(source) * catalog.select(source, config.backend())
          .memoryFactor());
    } catch (RuntimeException noEngine) {
      return artifactBytes(source);
    }
  }

  private static long artifactBytes(ModelSource source) {
    java.nio.file.Path path = source.location();
    try {
      if (java.nio.file.Files.isDirectory(path)) {
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(path)) {
          return files.filter(java.nio.file.Files::isRegularFile).mapToLong(f -> {
            try {
              return java.nio.file.Files.size(f);
            } catch (java.io.IOException ex) {
              return 0;
            }
          }).sum();
        }
      }
      return java.nio.file.Files.isRegularFile(path) ? java.nio.file.Files.size(path) : 0;
    } catch (java.io.IOException | java.io.UncheckedIOException ex) {
      return 0;
    }
  }

  /** Bytes held by loaded and loading models. */
  public long memoryUsed() {
    return budget.used();
  }

  // ---------------------------------------------------------------- policy, unload, labels

  /** Drains ready versions outside the policy; a labelled version is kept. */
  private void applyPolicy(Entry e) {
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
  private void startDrain(Entry e, ModelVersion v) {
    v.state(ModelState.DRAINING);
    e.epoch.incrementAndGet();
    listener.drainStarted(v.name, v.version);
    v.closeToNewLeases();
    Batcher batcher = v.batcherOrNull();
    if (batcher != null && !v.isClosed()) {
      Duration grace = v.config.drainGrace();
      Runnable failQueued = () -> batcher.failQueued(shuttingDown("version " + v.version + " of '"
          + v.name + "' unloaded before the request started: the drain grace of " + grace
          + " ended"));
      if (grace.isZero()) {
        failQueued.run();
      } else {
        batcher.drain();
        scheduler.schedule(failQueued, grace.toNanos(), TimeUnit.NANOSECONDS);
      }
    }
    GenerationScheduler generations = v.generationsOrNull();
    if (generations != null) {
      Duration grace = v.config.drainGrace();
      Runnable failWaiting = () -> generations.failWaiting(shuttingDown("version " + v.version
          + " of '" + v.name + "' unloaded before the generation started: the drain grace of "
          + grace + " ended"));
      if (grace.isZero()) {
        failWaiting.run();
      } else {
        generations.drain();
        scheduler.schedule(failWaiting, grace.toNanos(), TimeUnit.NANOSECONDS);
      }
    }
  }

  private void closed(Entry e, ModelVersion v) {
    if (v.state() != ModelState.FAILED && e.sources.containsKey(v.version)) {
      e.lastLoaded.put(v.version, v.status(Set.of()));
    }
    long weight = v.weight;
    v.weight = 0;
    budget.add(-weight);
    synchronized (e) {
      if (v.state() != ModelState.FAILED) {
        e.versions.remove(v.version, v);
      }
      e.epoch.incrementAndGet();
    }
    if (v.state() != ModelState.FAILED) {
      log.info("'{}' version {} unloaded", v.name, v.version);
      listener.unloaded(v.name, v.version);
    }
  }

  private void removeFailed(Entry e, ModelVersion v) {
    synchronized (e) {
      e.versions.remove(v.version, v);
      e.epoch.incrementAndGet();
    }
  }

  @Override
  public CompletableFuture<Void> unload(String name, long version) {
    Entry e = requireEntry(name);
    synchronized (e) {
      ModelVersion v = e.versions.get(version);
      if (v == null) {
        return CompletableFuture.failedFuture(versionNotFound(e, "version " + version));
      }
      return unload(e, v);
    }
  }

  @Override
  public CompletableFuture<Void> unload(String name) {
    Entry e = requireEntry(name);
    List<CompletableFuture<Void>> all = new ArrayList<>();
    synchronized (e) {
      for (ModelVersion v : List.copyOf(e.versions.values())) {
        all.add(unload(e, v));
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  /** Caller holds the entry's lock. */
  private CompletableFuture<Void> unload(Entry e, ModelVersion v) {
    e.labels.values().removeIf(target -> target == v.version);
    e.sources.remove(v.version);
    e.lastLoaded.remove(v.version);
    switch (v.state()) {
      case FAILED -> {
        e.versions.remove(v.version, v);
        e.epoch.incrementAndGet();
        return CompletableFuture.completedFuture(null);
      }
      case LOADING, WARMING -> v.unloadRequested = true;
      case READY -> startDrain(e, v);
      case DRAINING, UNLOADED -> { }
    }
    return v.closedFuture;
  }

  @Override
  public void label(String name, String label, long version) {
    ModelRef.requireLabel(label);
    if (ModelRef.LATEST.equals(label)) {
      throw new IllegalArgumentException(
          "the label 'latest' is reserved: it always means the highest ready version");
    }
    Entry e = requireEntry(name);
    Long previous;
    synchronized (e) {
      ModelVersion v = e.versions.get(version);
      if (v == null) {
        throw versionNotFound(e, "version " + version);
      }
      if (v.state() != ModelState.READY) {
        throw new ModelServingException(ErrorCode.MODEL_NOT_READY,
            "cannot point label '" + label + "' at version " + version + " of '" + name
                + "': it is " + v.state() + ", and a label may only point at a READY version");
      }
      previous = e.labels.put(label, version);
      e.epoch.incrementAndGet();
    }
    listener.labelMoved(name, label, version);
    if (previous != null && previous != version) {
      applyPolicy(e);
    }
  }

  @Override
  public void removeLabel(String name, String label) {
    Entry e = requireEntry(name);
    Long previous;
    synchronized (e) {
      previous = e.labels.remove(label);
      e.epoch.incrementAndGet();
    }
    if (previous == null) {
      throw versionNotFound(e, "label '" + label + "'");
    }
    listener.labelMoved(name, label, 0);
    applyPolicy(e);
  }

  private Entry requireEntry(String name) {
    Entry e = models.get(name);
    if (e == null) {
      throw modelNotFound(name);
    }
    return e;
  }

  private ModelServingException modelNotFound(String name) {
    List<String> known = new ArrayList<>(new TreeSet<>(models.keySet()));
    String list = known.size() > 20 ? known.subList(0, 20) + " and " + (known.size() - 20) + " more"
        : known.toString();
    return new ModelServingException(ErrorCode.MODEL_NOT_FOUND,
        "model '" + name + "' is not registered; registered models: " + list);
  }

  private static ModelServingException versionNotFound(Entry e, String what) {
    return new ModelServingException(ErrorCode.VERSION_NOT_FOUND,
        "model '" + e.name + "' has no " + what + "; versions: " + e.versions.keySet()
            + ", labels: " + new TreeSet<>(e.labels.keySet()));
  }

  private static ModelServingException shuttingDown(String message) {
    return new ModelServingException(ErrorCode.SHUTTING_DOWN, message);
  }

  // ---------------------------------------------------------------- the request path

  /**
   * Resolves {@code ref} to a ready version and takes a lease on it.
   *
   * @throws ModelServingException MODEL_NOT_FOUND, VERSION_NOT_FOUND, MODEL_NOT_READY or
   *     SHUTTING_DOWN
   */
  ModelVersion acquire(ModelRef ref) {
    if (closed) {
      throw shuttingDown("the server is closed");
    }
    Entry e = models.get(ref.name());
    if (e == null) {
      throw modelNotFound(ref.name());
    }
    for (int attempt = 0; attempt < MAX_RESOLVE_ATTEMPTS; attempt++) {
      long epoch = e.epoch.get();
      ModelVersion candidate = resolve(e, ref);
      if (candidate != null && candidate.tryAcquire()) {
        return candidate;
      }
      if (e.epoch.get() == epoch) {
        // Nothing moved while we looked: the refusal is the registry's real state.
        throw notServable(e, ref, candidate);
      }
    }
    throw new ModelServingException(ErrorCode.MODEL_NOT_READY,
        "model '" + ref + "' kept changing while resolving it; retry");
  }

  private static @Nullable ModelVersion resolve(Entry e, ModelRef ref) {
    if (ref.version().isPresent()) {
      return e.versions.get(ref.version().getAsLong());
    }
    if (ref.label().isPresent()) {
      Long target = e.labels.get(ref.label().get());
      return target == null ? null : e.versions.get(target);
    }
    for (ModelVersion v : e.versions.descendingMap().values()) {
      if (v.state() == ModelState.READY) {
        return v;
      }
    }
    return null;
  }

  private ModelServingException notServable(Entry e, ModelRef ref, @Nullable ModelVersion v) {
    if (closed) {
      return shuttingDown("the server is closed");
    }
    if (v == null) {
      if (ref.version().isPresent()) {
        return versionNotFound(e, "version " + ref.version().getAsLong());
      }
      if (ref.label().isPresent()) {
        return versionNotFound(e, "label '" + ref.label().get() + "'");
      }
      StringBuilder states = new StringBuilder();
      e.versions.values().forEach(x -> states.append(states.isEmpty() ? "" : ", ").append(x.version)
          .append(' ').append(x.state()));
      return new ModelServingException(ErrorCode.MODEL_NOT_READY,
          "model '" + e.name + "' has no READY version (" + (states.isEmpty() ? "none loaded"
              : states) + "); wait for a load to finish or load a version");
    }
    return switch (v.state()) {
      case DRAINING, UNLOADED -> shuttingDown(
          "version " + v.version + " of '" + e.name + "' is unloading; send requests to another"
              + " version");
      case FAILED -> new ModelServingException(ErrorCode.MODEL_NOT_READY,
          "version " + v.version + " of '" + e.name + "' failed to load: "
              + (v.failure() == null ? "unknown cause" : v.failure().getMessage()));
      default -> new ModelServingException(ErrorCode.MODEL_NOT_READY,
          "version " + v.version + " of '" + e.name + "' is " + v.state()
              + "; retry when it is READY");
    };
  }

  /**
   * Validates, then queues {@code request} on a leased version; completes exactly once. A version
   * that is registered but not loaded (never, or unloaded while idle) loads first; the request
   * waits for it within its timeout.
   */
  public CompletableFuture<InferenceResult> submit(InferenceRequest request, long submittedNanos,
      @Nullable Duration defaultTimeout, boolean callerWaits) {
    return submit(request, submittedNanos, defaultTimeout, LOADS_PER_REQUEST, callerWaits);
  }

  /**
   * How many times one request may load its version: more than once, because a keep-alive of 0
   * can unload the version a load made between that load and this request's turn.
   */
  private static final int LOADS_PER_REQUEST = 3;

  private CompletableFuture<InferenceResult> submit(InferenceRequest request,
      long submittedNanos, @Nullable Duration defaultTimeout, int loadsLeft,
      boolean callerWaits) {
    ModelVersion v;
    try {
      v = acquire(request.model());
    } catch (ModelServingException e) {
      Entry entry = models.get(request.model().name());
      if (entry == null || loadsLeft <= 0) {
        return CompletableFuture.failedFuture(e);
      }
      CompletableFuture<ModelStatus> loading = awaitLoad(entry, request.model());
      if (loading == null) {
        return CompletableFuture.failedFuture(e);
      }
      return afterLoad(entry, loading, request, submittedNanos, defaultTimeout, loadsLeft - 1);
    }
    Batcher batcher = v.batcher();
    int level;
    try {
      ModelMetadata metadata = request.parameters().isEmpty() ? v.metadata()
          : metadataFor(v, request.parameters());
      InputValidator.validate(v.name, metadata, request.inputs(), request.outputs(),
          v.config.rejectNaN());
      level = batcher.levelOf(request.priority(), request.rows());
    } catch (ModelServingException invalid) {
      released(v);
      v.metrics.request(Outcome.ERROR, ticker.read() - submittedNanos);
      return CompletableFuture.failedFuture(invalid);
    }
    Duration timeout = request.timeout()
        .or(() -> v.config.batching().defaultTimeout())
        .orElse(defaultTimeout);
    long deadline = timeout == null ? Long.MAX_VALUE : submittedNanos + timeout.toNanos();
    Call call = new Call(request, submittedNanos, deadline, level, () -> released(v));
    batcher.submit(call, callerWaits);
    return call.future;
  }

  /**
   * Starts {@code request} on a leased version of a generative model; the stream fails at once
   * when the model is unknown, not ready, not generative or its queue is full.
   */
  public Generation generate(dev.modserv.api.GenerationRequest request, long submittedNanos,
      @Nullable Duration defaultTimeout) {
    Duration timeout = request.timeout()
        .or(() -> config(request.model().name()).batching().defaultTimeout())
        .orElse(defaultTimeout);
    long deadline = timeout == null ? Long.MAX_VALUE : submittedNanos + timeout.toNanos();
    GenerationCall call = new GenerationCall(request, submittedNanos, deadline, ticker);
    Generation stream = new Generation(call);
    startGeneration(call, true);
    return stream;
  }

  private void startGeneration(GenerationCall call, boolean mayLoad) {
    dev.modserv.api.GenerationRequest request = call.request;
    ModelVersion v;
    try {
      v = acquire(request.model());
    } catch (ModelServingException e) {
      Entry entry = mayLoad ? models.get(request.model().name()) : null;
      if (entry == null) {
        call.failNow(e);
        return;
      }
      // A registered version that is not loaded (never, or unloaded while idle): load it.
      CompletableFuture<ModelStatus> loading = awaitLoad(entry, request.model());
      if (loading == null) {
        call.failNow(e);
        return;
      }
      loading.whenComplete((status, failure) -> {
        try {
          if (failure != null) {
            call.failNow(ModelServingException.find(failure).orElseGet(() ->
                new ModelServingException(ErrorCode.LOAD_FAILED, String.valueOf(failure),
                    failure)));
          } else if (!call.isDone()) {
            startGeneration(call, false);
          }
        } finally {
          stopsAwaiting(entry);
        }
      });
      return;
    }
    GenerationScheduler generations = v.generationsOrNull();
    if (generations == null) {
      released(v);
      call.failNow(new ModelServingException(ErrorCode.INVALID_INPUT, "'" + v.name
          + "' version " + v.version + " does not generate text (it has no GENERATIVE"
          + " capability)"));
      return;
    }
    Runnable onDone = () -> {
      generations.done(call);
      released(v);
    };
    if (call.bind(v.metrics, onDone)) {
      generations.submit(call);
    } else {
      released(v);
    }
  }

  /** Returns a stream that already failed with {@code error}. */
  public Generation refused(dev.modserv.api.GenerationRequest request, long submittedNanos,
      ModelServingException error) {
    GenerationCall call = new GenerationCall(request, submittedNanos, Long.MAX_VALUE, ticker);
    call.failNow(error);
    return new Generation(call);
  }

  /**
   * Starts or joins the load {@code ref} needs, with the caller counted in {@code entry}'s
   * {@link Entry#awaitingLoad} (before the load can finish, so that no answer in between lets the
   * version go); the caller calls {@link #stopsAwaiting} once it holds a version or has failed.
   * Returns null, counting nothing, when no registered version can be loaded.
   */
  private @Nullable CompletableFuture<ModelStatus> awaitLoad(Entry entry, ModelRef ref) {
    entry.awaitingLoad.incrementAndGet();
    CompletableFuture<ModelStatus> loading;
    try {
      loading = loadOnDemand(ref);
    } catch (RuntimeException failed) {
      stopsAwaiting(entry);
      throw failed;
    }
    if (loading == null) {
      stopsAwaiting(entry);
    }
    return loading;
  }

  /** One request no longer waits for a load; the last one lets keep-alive 0 act at once. */
  private void stopsAwaiting(Entry entry) {
    if (entry.awaitingLoad.decrementAndGet() == 0 && entry.config.keepAlive().isZero()) {
      try {
        scheduler.execute(this::evictExpired);
      } catch (RejectedExecutionException closing) {
        // The server is closing: it unloads every version anyway.
      }
    }
  }

  /**
   * Submits {@code request} once {@code loading} is done. The caller counted it in {@code
   * entry}'s {@link Entry#awaitingLoad}; the count drops once it holds a version (submit leases
   * one before it returns) or has failed.
   */
  private CompletableFuture<InferenceResult> afterLoad(Entry entry,
      CompletableFuture<ModelStatus> loading, InferenceRequest request, long submittedNanos,
      @Nullable Duration defaultTimeout, int loadsLeft) {
    CompletableFuture<InferenceResult> out = new CompletableFuture<>();
    loading.whenComplete((status, failure) -> {
      if (out.isDone() || failure != null) {
        stopsAwaiting(entry);
        if (failure != null) {
          out.completeExceptionally(ModelServingException.find(failure)
              .map(Throwable.class::cast).orElse(failure));
        }
        return;
      }
      CompletableFuture<InferenceResult> submitted;
      try {
        submitted = submit(request, submittedNanos, defaultTimeout, loadsLeft, false);
      } finally {
        stopsAwaiting(entry);
      }
      submitted.whenComplete(
          (result, error) -> {
            if (error != null) {
              out.completeExceptionally(error);
            } else {
              out.complete(result);
            }
          });
    });
    Duration timeout = request.timeout()
        .or(() -> config(request.model().name()).batching().defaultTimeout())
        .orElse(defaultTimeout);
    if (timeout != null && !out.isDone()) {
      long delay = submittedNanos + timeout.toNanos() - ticker.read();
      scheduler.schedule(() -> out.completeExceptionally(new ModelServingException(
          ErrorCode.TIMEOUT, "'" + request.model() + "' did not load within the request's"
              + " timeout of " + timeout.toMillis() + " ms; the load goes on")),
          Math.max(0, delay), TimeUnit.NANOSECONDS);
    }
    return out;
  }

  /**
   * Starts (or joins) the load of the registered version {@code ref} needs, or returns null when
   * none is registered for it. Concurrent first requests share one load.
   */
  private @Nullable CompletableFuture<ModelStatus> loadOnDemand(ModelRef ref) {
    Entry e = models.get(ref.name());
    if (e == null || closed) {
      return null;
    }
    Long target;
    if (ref.version().isPresent()) {
      target = ref.version().getAsLong();
    } else if (ref.label().isPresent()) {
      target = e.labels.get(ref.label().get());
    } else {
      // Not isEmpty() then max(): a version unregistered in between would make max() throw.
      target = e.sources.keySet().stream().max(Long::compare).orElse(null);
    }
    if (target == null) {
      return null;
    }
    ModelSource source = e.sources.get(target);
    if (source == null) {
      return null;
    }
    long version = target;
    ModelVersion v;
    synchronized (e) {
      ModelVersion existing = e.versions.get(version);
      if (existing != null) {
        return switch (existing.state()) {
          case LOADING, WARMING -> existing.loadFuture;
          case READY -> CompletableFuture.completedFuture(existing.status(Set.of()));
          case DRAINING, UNLOADED -> existing.closedFuture.thenCompose(x -> {
            CompletableFuture<ModelStatus> again = loadOnDemand(ref);
            return again != null ? again : CompletableFuture.failedFuture(
                shuttingDown("version " + version + " of '" + e.name + "' was unloaded"));
          });
          case FAILED -> null;
        };
      }
      v = newVersion(e, version, source);
    }
    log.info("loading '{}' version {} on first use", e.name, version);
    return start(e, v, source);
  }

  private static ModelMetadata metadataFor(ModelVersion v, Map<String, String> parameters) {
    try {
      return v.model().metadata(parameters);
    } catch (ModelServingException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT, "'" + v.name + "' version "
          + v.version + " refused the request parameters " + parameters + ": " + e.getMessage(),
          e);
    }
  }

  private Batcher newBatcher(ModelVersion v, ModelMetadata metadata) {
    LoadedModel model = v.model();
    return new Batcher(v.name, v.version, metadata, v.config.batching(), model::run, executor,
        (task, delay) -> scheduler.schedule(task, delay, TimeUnit.NANOSECONDS), ticker, v.metrics);
  }

  // ---------------------------------------------------------------- close

  /**
   * Refuses new work, unloads every version (each with its drain grace), and waits for their
   * models to close.
   */
  public CompletableFuture<Void> closeAll() {
    closed = true;
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (Entry e : models.values()) {
      synchronized (e) {
        for (ModelVersion v : List.copyOf(e.versions.values())) {
          all.add(unload(e, v));
        }
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  private static void closeQuietly(LoadedModel model, ModelVersion v) {
    try {
      model.close();
    } catch (Exception ex) {
      log.warn("closing '{}' version {} after a failed load failed", v.name, v.version, ex);
    }
  }

  /** Returns the longest drain grace of any model, to bound a close. */
  public Duration longestGrace() {
    Duration max = ModelConfig.DEFAULT_DRAIN_GRACE;
    for (Entry e : models.values()) {
      if (e.config.drainGrace().compareTo(max) > 0) {
        max = e.config.drainGrace();
      }
    }
    return max;
  }

  public List<String> backends() {
    return catalog.names();
  }

  public List<String> discoveryFailures() {
    return catalog.discoveryFailures();
  }
}
