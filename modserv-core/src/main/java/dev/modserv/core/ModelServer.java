package dev.modserv.core;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.GenerationListener;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.api.GenerationStream;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.core.internal.BackendCatalog;
import dev.modserv.core.internal.Caller;
import dev.modserv.core.internal.Generation;
import dev.modserv.core.internal.GuardedListener;
import dev.modserv.core.internal.GuardedServingMetrics;
import dev.modserv.core.internal.Tracing;
import dev.modserv.core.internal.Registry;
import dev.modserv.spi.Backend;
import dev.modserv.spi.ModelSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves models inside an application: load them by name and version through {@link #registry()},
 * call them from any thread with {@link #infer} or {@link #inferAsync}.
 *
 * <pre>{@code
 * try (ModelServer server = ModelServer.builder().build()) {
 *   server.registry().load("iris", 1, Path.of("models/iris.onnx")).join();
 *   InferenceResult result = server.infer("iris", Map.of("x", Tensor.of(features, 1, 4)));
 * }
 * }</pre>
 *
 * <h2>Should be shared</h2>
 * One server per application is the rule: it owns the models' native memory, the engines and the
 * threads that run them.
 *
 * <h2>Shutdown</h2>
 * {@link #close()} refuses new requests and loads, lets in-flight requests finish (each model's
 * drain grace bounds the wait for requests that have not started), closes every model once, then
 * the engines it discovered and the threads it created.
 */
public final class ModelServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelServer.class);

  private final Registry registry;
  private final BackendCatalog catalog;
  private final Ticker ticker;
  private final List<AutoCloseable> owned;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final @Nullable MeterRegistry meterRegistry;
  private final ObservationRegistry observations;

  private ModelServer(Builder b) {
    this.meterRegistry = b.meterRegistry;
    this.ticker = b.ticker != null ? b.ticker : Ticker.system();
    List<AutoCloseable> own = new ArrayList<>();
    Executor executor = b.executor;
    if (executor == null) {
      ExecutorService virtual = Executors.newThreadPerTaskExecutor(
          Thread.ofVirtual().name("modserv-", 0).factory());
      own.add(virtual::shutdown);
      executor = virtual;
    }
    ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "modserv-timer");
      t.setDaemon(true);
      return t;
    });
    scheduler.setRemoveOnCancelPolicy(true);
    own.add(scheduler::shutdownNow);
    // Closing a native model may block for seconds: never on the timer, a lock holder or a
    // cleaner. Platform threads, since a close in native code would pin a virtual thread's carrier.
    ExecutorService closer = Executors.newThreadPerTaskExecutor(
        Thread.ofPlatform().daemon().name("modserv-close-", 0).factory());
    own.add(closer::shutdown);
    this.owned = List.copyOf(own);
    ServingMetrics metrics = b.metrics != null ? GuardedServingMetrics.guard(b.metrics)
        : b.meterRegistry != null ? ServingMetrics.micrometer(b.meterRegistry)
        : ServingMetrics.noop();
    ClassLoader loader = null;
    if (b.discover) {
      loader = b.classLoader != null ? b.classLoader : defaultClassLoader();
    }
    this.catalog = BackendCatalog.create(b.backends, loader, b.excluded);
    this.registry = new Registry(catalog, executor, closer, scheduler, ticker,
        b.clock != null ? b.clock : InstantSource.system(), metrics,
        new GuardedListener(b.listeners), b.maxLoadedBytes, b.defaultTimeout,
        b.responseCacheBytes, b.embeddingCacheBytes, Tracing.of(b.observations));
    this.observations = b.observations;
    if (!catalog.discoveryFailures().isEmpty()) {
      log.warn("backend discovery had failures: {}", catalog.discoveryFailures());
    }
    log.debug("model server started with backends {}", catalog.names());
  }

  private static ClassLoader defaultClassLoader() {
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    return context != null ? context : ModelServer.class.getClassLoader();
  }

  /** The response cache's bound when none is set: 64 MiB ({@link Builder#responseCacheBytes}). */
  public static final long DEFAULT_RESPONSE_CACHE_BYTES = 64L << 20;

  /**
   * Returns the registry given to {@link Builder#meterRegistry}, if one was: an adapter over this
   * server shows its meters by default.
   */
  public java.util.Optional<MeterRegistry> meterRegistry() {
    return java.util.Optional.ofNullable(meterRegistry);
  }

  /**
   * Returns the registry given to {@link Builder#observationRegistry}, or the no-op one: an
   * adapter over this server observes its requests into it by default.
   */
  public ObservationRegistry observationRegistry() {
    return observations;
  }

  /** Returns a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the registry: load, unload, label and list models. */
  public ModelRegistry registry() {
    return registry;
  }

  /** Returns the names of the engines this server can use, in the order it tries them. */
  public List<String> backends() {
    return registry.backends();
  }

  /**
   * Returns what a node gives up when {@code source} loads as a version of {@code name} (whose
   * configuration names the engine and may declare the memory), told from its files without
   * loading it ({@link Backend#nodeMemoryBytes(ModelSource, int)}); empty when no engine of this
   * server can load it. {@code maxContextTokens} caps the context an engine with a context cache
   * sizes it for; 0 for the model's own setting.
   */
  public java.util.Optional<MemoryEstimate> estimateMemory(String name, ModelSource source,
      int maxContextTokens) {
    ModelConfig config = registry.config(name);
    Backend backend;
    try {
      backend = catalog.select(source, config.backend());
    } catch (ModelServingException noEngine) {
      return java.util.Optional.empty();
    }
    long declared = config.memoryBytes();
    long bytes = declared > 0 ? declared
        : BackendCatalog.nodeEstimate(backend, source, Math.max(0, maxContextTokens));
    return java.util.Optional.of(new MemoryEstimate(backend.name(), bytes, declared > 0,
        backend.runtimeBytes(), backend.usesGpu()));
  }

  /**
   * Returns {@link #estimateMemory(String, ModelSource, int)} for version {@code version} of {@code
   * name} as it was registered (with its engine options); empty when it is not registered or no
   * engine can load it.
   */
  public java.util.Optional<MemoryEstimate> estimateMemory(String name, long version,
      int maxContextTokens) {
    return registry.source(name, version).flatMap(s -> estimateMemory(name, s, maxContextTokens));
  }

  /**
   * Returns what a node gives up when the engine {@code engine} loads a model known by its
   * published figures ({@link Backend#nodeMemoryBytes(long, long)}); empty when this server has no
   * such engine.
   */
  public java.util.Optional<MemoryEstimate> estimatePublishedMemory(String engine,
      long weightBytes, long contextCacheBytes) {
    return catalog.named(engine).map(b -> new MemoryEstimate(b.name(),
        b.nodeMemoryBytes(weightBytes, contextCacheBytes), false, b.runtimeBytes(), b.usesGpu()));
  }

  /** Returns whether the engine {@code name} can run models on a GPU; false when there is none. */
  public boolean backendUsesGpu(String name) {
    return catalog.named(name).map(Backend::usesGpu).orElse(false);
  }

  /** Returns what went wrong while discovering engines, one line per provider; empty if nothing. */
  public List<String> discoveryFailures() {
    return registry.discoveryFailures();
  }

  /**
   * Runs {@code request} and waits for its result; the model's processing ({@link
   * ModelConfig#processing()}) applies.
   *
   * @throws ModelServingException with the code of what went wrong
   */
  public InferenceResult infer(InferenceRequest request) {
    return infer(request, ModelProcessing.NOT_GIVEN);
  }

  /**
   * Runs {@code request} with {@code processing} for this call and waits for its result: each part
   * it gives (pre- or post-processing) replaces the model's; {@link ModelProcessing#none()} turns
   * both off. A processing failure is {@code INVALID_INPUT}.
   *
   * @throws ModelServingException with the code of what went wrong
   */
  public InferenceResult infer(InferenceRequest request, ModelProcessing processing) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(processing, "processing");
    long submitted = ticker.read();
    if (closed.get()) {
      throw new ModelServingException(ErrorCode.SHUTTING_DOWN, "the model server is closed");
    }
    // The caller waits anyway: a batch it forms runs on its own thread.
    return await(submit(request, processing, submitted, Caller.WAITS));
  }

  /** Runs {@code inputs} through the highest ready version of {@code model} (or {@code name:ver}). */
  public InferenceResult infer(String model, Map<String, Tensor> inputs) {
    return infer(InferenceRequest.builder(model).inputs(inputs).build());
  }

  /**
   * Submits {@code request}. Bad input, an unknown model or a version that cannot serve complete
   * the future at once, exceptionally, with a {@link ModelServingException}. Nothing waits: when
   * the model is idle (no other call running or queued) and its recent engine time is short (under
   * 100 µs), the batch runs on the calling thread and the future is complete on return, which saves two thread
   * hand-offs; otherwise the request is queued and the future completes on the thread that runs
   * its batch.
   */
  public CompletableFuture<InferenceResult> inferAsync(InferenceRequest request) {
    return inferAsync(request, ModelProcessing.NOT_GIVEN);
  }

  /**
   * Submits {@code request} with {@code processing} for this call, as {@link
   * #infer(InferenceRequest, ModelProcessing)} runs it; nothing waits (see {@link
   * #inferAsync(InferenceRequest)}).
   */
  public CompletableFuture<InferenceResult> inferAsync(InferenceRequest request,
      ModelProcessing processing) {
    return submitAsync(request, processing, Caller.ASYNC);
  }

  /**
   * Submits {@code request} from an event loop's thread, as {@link
   * #inferAsync(InferenceRequest, ModelProcessing)} does, except that it is queued, and its batch
   * formed, at the end of the loop's round ({@link RoundEnd}) rather than now: the round's requests
   * go as one batch, run there when the engine is short (the limit {@link
   * #inferAsync(InferenceRequest)} names) and on the server's executor otherwise. The future
   * completes on the thread that ran the batch.
   */
  public CompletableFuture<InferenceResult> inferAsync(InferenceRequest request,
      ModelProcessing processing, RoundEnd roundEnd) {
    return submitAsync(request, processing,
        Caller.atEndOf(Objects.requireNonNull(roundEnd, "roundEnd")));
  }

  private CompletableFuture<InferenceResult> submitAsync(InferenceRequest request,
      ModelProcessing processing, Caller caller) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(processing, "processing");
    long submitted = ticker.read();
    if (closed.get()) {
      return CompletableFuture.failedFuture(new ModelServingException(ErrorCode.SHUTTING_DOWN,
          "the model server is closed"));
    }
    return submit(request, processing, submitted, caller);
  }

  /** The request path: preprocessing, the registry (validation, batching), postprocessing. */
  private CompletableFuture<InferenceResult> submit(InferenceRequest request,
      ModelProcessing given, long submitted, Caller caller) {
    ModelProcessing processing = given.orElse(
        registry.config(request.model().name()).processing());
    return processing.run(request, ticker,
        r -> registry.submit(r, submitted, caller));
  }

  /**
   * Embeds {@code texts} with an {@link dev.modserv.api.Capability#EMBEDDING} model: one vector
   * per text, in order. The texts go through the model's batcher like any request.
   *
   * @throws ModelServingException {@code INVALID_INPUT} for an empty list or a model that does not
   *     embed text; the codes of {@link #infer} otherwise
   */
  public float[][] embed(String model, java.util.List<String> texts) {
    if (texts.isEmpty()) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT, "nothing to embed: the list of"
          + " texts is empty");
    }
    InferenceResult result = infer(InferenceRequest.builder(model)
        .input(dev.modserv.api.Capability.EMBEDDING_INPUT,
            Tensor.of(texts.toArray(String[]::new), texts.size()))
        .build());
    return vectors(result, model, texts.size());
  }

  /**
   * Returns the vectors of an embedding model's {@code result} for {@code texts} texts, as {@link
   * #embed} does: for callers that run the request themselves (asynchronously, or to read the
   * token counts too).
   *
   * @throws ModelServingException {@code INVALID_INPUT} when the model gives no embedding output,
   *     {@code BACKEND_ERROR} when it gives the wrong number of vectors
   */
  public static float[][] vectors(InferenceResult result, String model, int texts) {
    Tensor vectors = result.output(dev.modserv.api.Capability.EMBEDDING_OUTPUT).orElseThrow(
        () -> new ModelServingException(ErrorCode.INVALID_INPUT, "model '" + model
            + "' gives no '" + dev.modserv.api.Capability.EMBEDDING_OUTPUT + "' output; it is not"
            + " an embedding model"));
    if (vectors.rank() != 2 || vectors.dim(0) != texts) {
      throw new ModelServingException(ErrorCode.BACKEND_ERROR, "model '" + model + "' returned "
          + java.util.Arrays.toString(vectors.shape()) + " for " + texts + " texts");
    }
    int dimensions = (int) vectors.dim(1);
    java.nio.FloatBuffer all = vectors.floatBuffer();
    float[][] out = new float[texts][dimensions];
    for (float[] row : out) {
      all.get(row);
    }
    return out;
  }

  /**
   * Starts generating text with a {@link dev.modserv.api.Capability#GENERATIVE} model and returns
   * the stream at once; read it once, as a {@link java.util.concurrent.Flow.Publisher}, an
   * iterator, a {@link java.util.stream.Stream} or a whole {@link GenerationResult}. The model runs
   * a fixed number of generations at once (its sequences); others wait in a bounded queue (the
   * model's {@code maxQueueSize}). Refusals ({@code MODEL_NOT_FOUND}, {@code QUEUE_FULL}, {@code
   * TIMEOUT} at its deadline, waiting or generating, {@code SHUTTING_DOWN}) and engine failures end the
   * stream with a {@link ModelServingException}.
   */
  public GenerationStream generate(GenerationRequest request) {
    return start(request);
  }

  private Generation start(GenerationRequest request) {
    Objects.requireNonNull(request, "request");
    long submitted = ticker.read();
    if (closed.get()) {
      return registry.refused(request, submitted, new ModelServingException(
          ErrorCode.SHUTTING_DOWN, "the model server is closed"));
    }
    return registry.generate(request, submitted);
  }

  /**
   * Starts generating and delivers the chunks to {@code listener} as they come, on the thread that
   * made them (the engine's; the caller's for a refusal), without a thread of its own: keep each
   * call short and never block in it (use {@link GenerationStream#subscribe} for a consumer that
   * may block). Returns the stream, to cancel it.
   */
  public GenerationStream generate(GenerationRequest request, GenerationListener listener) {
    Objects.requireNonNull(listener, "listener");
    Generation stream = start(request);
    stream.deliverTo(listener);
    return stream;
  }

  /** Generates the whole text for {@code request} and returns it; blocks. */
  public GenerationResult complete(GenerationRequest request) {
    return generate(request).result();
  }

  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ModelServingException mse) {
        throw mse;
      }
      throw new ModelServingException(ErrorCode.BACKEND_ERROR, String.valueOf(cause), cause);
    }
  }

  /**
   * Refuses new work, drains and closes every model, then the discovered engines and the server's
   * own threads. Waits at most the longest drain grace plus 30 seconds for engine calls in
   * progress; past that it logs which models did not close. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    CompletableFuture<Void> all = registry.closeAll();
    Duration bound = registry.longestGrace().plusSeconds(30);
    try {
      all.get(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      log.error("models still not closed {} after close(): {}", bound, registry.models());
    } catch (ExecutionException e) {
      log.warn("a model failed to close", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    catalog.close();
    for (AutoCloseable c : owned) {
      try {
        c.close();
      } catch (Exception e) {
        log.warn("closing {} failed", c, e);
      }
    }
  }

  /** The embedding cache's bound when none is set: 64 MiB. */
  public static final long DEFAULT_EMBEDDING_CACHE_BYTES = 64L << 20;

  /** Builds a {@link ModelServer}. Each setting is checked when set and may be set once. */
  public static final class Builder {
    private final List<Backend> backends = new ArrayList<>();
    private final List<ModelServerListener> listeners = new ArrayList<>();
    private final Set<String> excluded = new HashSet<>();
    private boolean discover = true;
    private boolean discoverSet;
    private @Nullable ClassLoader classLoader;
    private @Nullable MeterRegistry meterRegistry;
    private @Nullable ServingMetrics metrics;
    private ObservationRegistry observations = ObservationRegistry.NOOP;
    private @Nullable Executor executor;
    private @Nullable Ticker ticker;
    private @Nullable InstantSource clock;
    private @Nullable Duration defaultTimeout;
    private long maxLoadedBytes = Long.MAX_VALUE;
    private boolean maxLoadedBytesSet;
    private long responseCacheBytes = DEFAULT_RESPONSE_CACHE_BYTES;
    private boolean responseCacheBytesSet;
    private long embeddingCacheBytes = DEFAULT_EMBEDDING_CACHE_BYTES;
    private boolean embeddingCacheBytesSet;

    private Builder() {}

    /**
     * Bounds the response cache, shared by every model that turns it on ({@link
     * ModelConfig.Builder#responseCache}), to {@code bytes}: its entries' keys (the requests'
     * bytes) and answers together; answers are evicted when the bound is reached. 0 turns the
     * cache off, whatever the models ask. Defaults to {@link #DEFAULT_RESPONSE_CACHE_BYTES}, held
     * only as models that turn the cache on fill it ({@code docs/caching.md}).
     */
    public Builder responseCacheBytes(long bytes) {
      if (responseCacheBytesSet) {
        throw new IllegalStateException("responseCacheBytes was already set to "
            + responseCacheBytes);
      }
      if (bytes < 0) {
        throw new IllegalArgumentException("responseCacheBytes must be >= 0: " + bytes);
      }
      this.responseCacheBytes = bytes;
      this.responseCacheBytesSet = true;
      return this;
    }

    /**
     * Bounds the embedding cache of all models together ({@link ModelConfig.Builder#embeddingCache},
     * {@code docs/embedding-cache.md}), weighed by the bytes of each entry's vector and text plus a
     * fixed overhead; least useful entries go first (Caffeine's W-TinyLFU). Defaults to {@link
     * ModelServer#DEFAULT_EMBEDDING_CACHE_BYTES} (64 MiB); a model uses it only when its configuration
     * turns the cache on.
     */
    public Builder embeddingCacheBytes(long bytes) {
      if (embeddingCacheBytesSet) {
        throw new IllegalStateException("embeddingCacheBytes was already set to "
            + embeddingCacheBytes);
      }
      if (bytes < 0) {
        throw new IllegalArgumentException("embeddingCacheBytes must be >= 0: " + bytes);
      }
      this.embeddingCacheBytes = bytes;
      this.embeddingCacheBytesSet = true;
      return this;
    }

    /**
     * Bounds the native memory of loaded models, as estimated at load (the engine's report, a
     * model's declared {@code memoryBytes}, else the artifact's size times the engine's factor).
     * When a load does not fit, idle models unload, least recently used first; a model that does
     * not fit even then is refused with {@code INSUFFICIENT_MEMORY}. Defaults to no bound.
     */
    public Builder maxLoadedBytes(long bytes) {
      if (maxLoadedBytesSet) {
        throw new IllegalStateException("maxLoadedBytes was already set to " + maxLoadedBytes);
      }
      if (bytes < 1) {
        throw new IllegalArgumentException("maxLoadedBytes must be >= 1: " + bytes);
      }
      this.maxLoadedBytes = bytes;
      this.maxLoadedBytesSet = true;
      return this;
    }

    /**
     * Adds an engine. Backends added here are tried before discovered ones, in the order added,
     * and shadow a discovered provider of the same name. They belong to the caller, who closes
     * them after the server.
     */
    public Builder backend(Backend backend) {
      Objects.requireNonNull(backend, "backend");
      String name = backend.name();
      if (backends.stream().anyMatch(b -> b.name().equals(name))) {
        throw new IllegalArgumentException("a backend named '" + name + "' was already added");
      }
      backends.add(backend);
      return this;
    }

    /** Turns {@link java.util.ServiceLoader} discovery of engines on (the default) or off. */
    public Builder discoverBackends(boolean enabled) {
      if (discoverSet) {
        throw new IllegalStateException("discoverBackends was already set to " + discover);
      }
      this.discover = enabled;
      this.discoverSet = true;
      return this;
    }

    /** Discovers engines with {@code loader}; defaults to the thread's context class loader. */
    public Builder classLoader(ClassLoader loader) {
      if (classLoader != null) {
        throw new IllegalStateException("classLoader was already set to " + classLoader);
      }
      this.classLoader = Objects.requireNonNull(loader, "loader");
      return this;
    }

    /** Leaves the discovered engine {@code name} out. */
    public Builder excludeBackend(String name) {
      if (name.isBlank()) {
        throw new IllegalArgumentException("backend name must not be blank");
      }
      excluded.add(name);
      return this;
    }

    /** Records metrics to {@code registry} (Micrometer). Without it, nothing is recorded. */
    public Builder meterRegistry(MeterRegistry registry) {
      if (meterRegistry != null || metrics != null) {
        throw new IllegalStateException("metrics were already set");
      }
      this.meterRegistry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Observes requests into {@code registry} (Micrometer Observation): with a tracing bridge, each
     * request's queue wait and engine call, and each generation, become spans of the trace that
     * submitted it ({@code docs/tracing.md}). Defaults to none, which costs nothing.
     */
    public Builder observationRegistry(ObservationRegistry registry) {
      if (observations != ObservationRegistry.NOOP) {
        throw new IllegalStateException("observationRegistry was already set");
      }
      this.observations = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** Records metrics through a custom implementation; its exceptions are logged and ignored. */
    public Builder metrics(ServingMetrics metrics) {
      if (meterRegistry != null || this.metrics != null) {
        throw new IllegalStateException("metrics were already set");
      }
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    /** Adds a lifecycle listener. */
    public Builder listener(ModelServerListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Runs loads and engine calls on {@code executor}, which the caller owns and shuts down after
     * the server. Defaults to a virtual thread per task, owned by the server.
     */
    public Builder executor(Executor executor) {
      if (this.executor != null) {
        throw new IllegalStateException("executor was already set to " + this.executor);
      }
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Measures timings and deadlines with {@code ticker}; defaults to {@link Ticker#system()}. */
    public Builder ticker(Ticker ticker) {
      if (this.ticker != null) {
        throw new IllegalStateException("ticker was already set to " + this.ticker);
      }
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /** Stamps wall-clock times (a model's load time) with {@code clock}; defaults to the system. */
    public Builder clock(InstantSource clock) {
      if (this.clock != null) {
        throw new IllegalStateException("clock was already set to " + this.clock);
      }
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Sets the timeout of requests that set none; positive. Defaults to no timeout. */
    public Builder defaultTimeout(Duration timeout) {
      if (defaultTimeout != null) {
        throw new IllegalStateException("defaultTimeout was already set to " + defaultTimeout);
      }
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("defaultTimeout must be positive: " + timeout);
      }
      this.defaultTimeout = timeout;
      return this;
    }

    /** Returns a new server; the builder can build again. */
    public ModelServer build() {
      return new ModelServer(this);
    }
  }
}
