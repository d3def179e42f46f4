package dev.modserv.core.internal;

import dev.modserv.api.GenerationRequest;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelRegistry;
import dev.modserv.core.ModelServerListener;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.ServingMetrics;
import dev.modserv.core.Ticker;
import dev.modserv.core.internal.cache.ResponseCache;
import dev.modserv.spi.ModelSource;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * The registry behind {@code ModelServer}: a façade over the classes that each do one job.
 *
 * <ul>
 *   <li>{@link ModelTable}: names, labels, resolution of a reference and the lease on a version;
 *   <li>{@link VersionLifecycle}: load, warm-up ({@link WarmUp}), ready, drain, unload, close;
 *   <li>{@link ModelCache}: the memory budget, LRU eviction and keep-alive;
 *   <li>{@link OnDemandLoader}: loading a registered version on its first request;
 *   <li>{@link RequestPath}: a request's deadline, lease, validation and queue.
 * </ul>
 *
 * <p>Structural changes of one model name hold that name's lock; requests never take it: they
 * resolve a version from concurrent maps and take a lease by compare-and-set. Each structural
 * change bumps the name's epoch, so a request whose resolution raced with a switch resolves again
 * instead of failing. Native models close on the close executor, never under a lock or on the
 * timer thread.
 */
public final class Registry implements ModelRegistry {
  private final ModelTable table = new ModelTable();
  private final BackendCatalog catalog;
  private final ModelCache cache;
  private final VersionLifecycle lifecycle;
  private final RequestPath requests;
  private final ResponseCache responses;
  private final ModelServerListener listener;

  /**
   * Wires the registry. {@code executor} runs loads and batches, {@code scheduler} (one timer
   * thread) runs batch windows, deadlines and keep-alive checks and must never block, {@code
   * closeExecutor} closes native models; {@code defaultTimeout} is the server's request timeout;
   * {@code responseCacheBytes} bounds the response cache (0: off); {@code embeddingCacheBytes}
   * bounds the embedding cache of all models together.
   */
  public Registry(BackendCatalog catalog, Executor executor, Executor closeExecutor,
      ScheduledExecutorService scheduler, Ticker ticker, InstantSource clock,
      ServingMetrics metrics, ModelServerListener listener, long maxLoadedBytes,
      @Nullable Duration defaultTimeout, long responseCacheBytes, long embeddingCacheBytes,
      Tracing tracing) {
    this.catalog = catalog;
    this.listener = listener;
    this.cache = new ModelCache(table, catalog, scheduler, ticker, listener, maxLoadedBytes);
    this.responses = new ResponseCache(responseCacheBytes, metrics, ticker);
    EmbeddingCache embeddings = new EmbeddingCache(embeddingCacheBytes, metrics, ticker);
    this.lifecycle = new VersionLifecycle(table, cache, catalog, executor, closeExecutor,
        scheduler, ticker, clock, metrics, listener, load -> {
          responses.dropLoad(load);
          embeddings.dropLoad(load);
        });
    OnDemandLoader onDemand = new OnDemandLoader(table, lifecycle, cache, scheduler, ticker);
    this.requests = new RequestPath(table, cache, onDemand, responses, embeddings, ticker,
        defaultTimeout, metrics, tracing);
    metrics.loadedModels(table::readyCount);
  }

  // ---------------------------------------------------------------- configuration and status

  @Override
  public void configure(String name, ModelConfig config) {
    ModelRef.requireName(name);
    Objects.requireNonNull(config, "config");
    ModelEntry e = table.getOrCreate(name);
    synchronized (e) {
      e.config = config;
    }
    // A keep-alive of 0 unloads idle versions now, not at the next tick.
    if (config.keepAlive().isZero()) {
      cache.evictSoon();
    }
  }

  @Override
  public CompletableFuture<Void> ensureLoaded(ModelRef ref) {
    return requests.ensureLoaded(ref);
  }

  @Override
  public ModelConfig config(String name) {
    return table.config(name);
  }

  @Override
  public List<ModelStatus> models() {
    List<ModelStatus> out = new ArrayList<>();
    table.sorted().forEach(e -> out.addAll(table.versions(e.name)));
    return out;
  }

  @Override
  public Optional<ModelMetadata> metadata(ModelRef ref) {
    return table.metadata(ref);
  }

  @Override
  public List<ModelStatus> versions(String name) {
    return table.versions(name);
  }

  @Override
  public Optional<ModelStatus> status(String name, long version) {
    return table.status(name, version);
  }

  /** Returns where version {@code version} of {@code name} loads from, when it is registered. */
  public Optional<ModelSource> source(String name, long version) {
    ModelEntry e = table.get(name);
    return e == null ? Optional.empty() : Optional.ofNullable(e.sources.get(version));
  }

  @Override
  public List<ModelStatus> registered() {
    List<ModelStatus> out = new ArrayList<>();
    for (ModelEntry e : table.sorted()) {
      for (long version : new TreeSet<>(e.sources.keySet())) {
        ModelSource source = e.sources.get(version);
        if (e.versions.containsKey(version) || source == null) {
          continue;
        }
        ModelStatus last = e.lastLoaded.get(version);
        out.add(new ModelStatus(e.name, version, ModelState.UNLOADED, Set.of(),
            last == null ? Optional.empty() : last.metadata(), Optional.empty(), false,
            last != null ? last.memoryBytes() : cache.estimate(e.config, source),
            0, e.config.batching().maxQueueSize(), Optional.empty(), Optional.empty()));
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public CompletableFuture<ModelStatus> load(String name, long version, ModelSource source) {
    ModelRef.requireName(name);
    ModelRef.requireVersion(version);
    Objects.requireNonNull(source, "source");
    if (table.isClosed()) {
      return CompletableFuture.failedFuture(
          ModelTable.shuttingDown("the server is closed; load refused"));
    }
    return lifecycle.load(table.getOrCreate(name), version, source);
  }

  /** Registers a version to load on its first request, without loading it now. */
  @Override
  public void register(String name, long version, ModelSource source) {
    ModelRef.requireName(name);
    ModelRef.requireVersion(version);
    Objects.requireNonNull(source, "source");
    ModelEntry e = table.getOrCreate(name);
    e.sources.put(version, source);
    e.changed();
  }

  @Override
  public CompletableFuture<Void> unload(String name, long version) {
    ModelEntry e = table.require(name);
    synchronized (e) {
      ModelVersion v = e.versions.get(version);
      if (v == null) {
        return CompletableFuture.failedFuture(
            ModelTable.versionNotFound(e, "version " + version));
      }
      return lifecycle.unload(e, v);
    }
  }

  @Override
  public CompletableFuture<Void> unload(String name) {
    return lifecycle.unloadAll(table.require(name));
  }

  @Override
  public void label(String name, String label, long version) {
    ModelRef.requireLabel(label);
    if (ModelRef.LATEST.equals(label)) {
      throw new IllegalArgumentException(
          "the label 'latest' is reserved: it always means the highest ready version");
    }
    ModelEntry e = table.require(name);
    Long previous = table.putLabel(e, label, version);
    listener.labelMoved(name, label, version);
    if (previous != null && previous != version) {
      lifecycle.applyPolicy(e);
    }
  }

  @Override
  public void removeLabel(String name, String label) {
    ModelEntry e = table.require(name);
    table.removeLabel(e, label);
    listener.labelMoved(name, label, 0);
    lifecycle.applyPolicy(e);
  }

  /**
   * Refuses new work, unloads every version (each with its drain grace), and completes once every
   * model closed.
   */
  public CompletableFuture<Void> closeAll() {
    return lifecycle.closeAll();
  }

  /** Returns the longest drain grace of any model, to bound a close. */
  public Duration longestGrace() {
    Duration max = ModelConfig.DEFAULT_DRAIN_GRACE;
    for (ModelEntry e : table.entries()) {
      if (e.config.drainGrace().compareTo(max) > 0) {
        max = e.config.drainGrace();
      }
    }
    return max;
  }

  // ---------------------------------------------------------------- requests

  /**
   * Resolves, validates and queues {@code request} on a leased version; completes exactly once. A
   * version that is registered but not loaded (never, or unloaded while idle) loads first; the
   * request waits for it within its deadline. A batch formed now that holds the request may run on
   * the calling thread: when the caller waits for it anyway, or when the engine is short; an event
   * loop's call is batched at the end of its round (see {@code Batcher}).
   */
  public CompletableFuture<InferenceResult> submit(InferenceRequest request, long submittedNanos,
      Caller caller) {
    return requests.submit(request, submittedNanos, caller);
  }

  /**
   * Starts {@code request} on a leased version of a generative model; the stream fails at once
   * when the model is unknown, not ready, not generative or its queue is full.
   */
  public Generation generate(GenerationRequest request, long submittedNanos) {
    return requests.generate(request, submittedNanos);
  }

  /** Returns a stream that already failed with {@code error}. */
  public Generation refused(GenerationRequest request, long submittedNanos,
      ModelServingException error) {
    return requests.refused(request, submittedNanos, error);
  }

  /** Bytes held by loaded and loading models. */
  public long memoryUsed() {
    return cache.memoryUsed();
  }

  /** The response cache shared by the models that turn it on. */
  public ResponseCache responses() {
    return responses;
  }

  public List<String> backends() {
    return catalog.names();
  }

  public List<String> discoveryFailures() {
    return catalog.discoveryFailures();
  }
}
