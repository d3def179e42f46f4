package dev.modserv.core;

import dev.modserv.api.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * How the registry treats one model (every version of a name): its version policy, warm-up, the
 * grace its in-flight requests get when a version unloads, which engine loads it, and the pre- and
 * post-processing of its requests ({@link Builder#processing}).
 *
 * <pre>{@code
 * ModelConfig config = ModelConfig.builder()
 *     .versionPolicy(VersionPolicy.latest(2))
 *     .drainGrace(Duration.ofSeconds(10))
 *     .build();
 * server.registry().configure("iris", config);
 * }</pre>
 */
public final class ModelConfig {
  /** The drain grace when none is set: 30 seconds. */
  public static final Duration DEFAULT_DRAIN_GRACE = Duration.ofSeconds(30);

  /**
   * The most bytes of text (UTF-8, all STRING elements of a request together) a model takes when
   * none is set: 4 MiB. Tokenizing text grows with its length; 10 MB took seconds of engine time.
   */
  public static final long DEFAULT_MAX_TEXT_BYTES = 4L << 20;

  /**
   * The most elements (all inputs of a request together) a model takes when none is set: 2^28
   * (1 GiB of FP32), above anything the HTTP adapter's default body limit lets through.
   */
  public static final long DEFAULT_MAX_ELEMENTS = 1L << 28;

  /**
   * The use cases a model may declare ({@link Builder#useCases}), as the node fit report filters
   * on them: the reference's own (llmfit) plus {@code classification} and {@code tensor} for
   * models that are not language models.
   */
  public static final List<String> USE_CASES = List.of("general", "chat", "coding", "reasoning",
      "multimodal", "embedding", "classification", "tensor");

  private static final ModelConfig DEFAULTS = builder().build();

  private final VersionPolicy versionPolicy;
  private final List<Map<String, Tensor>> warmupSamples;
  private final boolean warmup;
  private final int warmupIterations;
  private final Duration drainGrace;
  private final @Nullable String backend;
  private final BatchingPolicy batching;
  private final Duration keepAlive;
  private final long memoryBytes;
  private final boolean rejectNaN;
  private final ModelProcessing processing;
  private final boolean responseCache;
  private final boolean embeddingCache;
  private final long maxTextBytes;
  private final long maxElements;
  private final List<String> useCases;

  private ModelConfig(Builder b) {
    this.versionPolicy = b.versionPolicy != null ? b.versionPolicy : VersionPolicy.latest(1);
    this.warmupSamples = List.copyOf(b.warmupSamples);
    this.warmup = b.warmup;
    this.warmupIterations = b.warmupIterations;
    this.drainGrace = b.drainGrace != null ? b.drainGrace : DEFAULT_DRAIN_GRACE;
    this.backend = b.backend;
    this.batching = b.batching != null ? b.batching : BatchingPolicy.defaults();
    this.keepAlive = b.keepAlive != null ? b.keepAlive : Duration.ofSeconds(-1);
    this.memoryBytes = b.memoryBytes;
    this.rejectNaN = b.rejectNaN;
    this.processing = b.processing != null ? b.processing : ModelProcessing.NOT_GIVEN;
    this.responseCache = b.responseCache;
    this.embeddingCache = b.embeddingCache;
    this.maxTextBytes = b.maxTextBytes != 0 ? b.maxTextBytes : DEFAULT_MAX_TEXT_BYTES;
    this.maxElements = b.maxElements != 0 ? b.maxElements : DEFAULT_MAX_ELEMENTS;
    this.useCases = List.copyOf(b.useCases);
  }

  private ModelConfig(ModelConfig c, Duration keepAlive) {
    this.versionPolicy = c.versionPolicy;
    this.warmupSamples = c.warmupSamples;
    this.warmup = c.warmup;
    this.warmupIterations = c.warmupIterations;
    this.drainGrace = c.drainGrace;
    this.backend = c.backend;
    this.batching = c.batching;
    this.keepAlive = keepAlive;
    this.memoryBytes = c.memoryBytes;
    this.rejectNaN = c.rejectNaN;
    this.processing = c.processing;
    this.responseCache = c.responseCache;
    this.embeddingCache = c.embeddingCache;
    this.maxTextBytes = c.maxTextBytes;
    this.maxElements = c.maxElements;
    this.useCases = c.useCases;
  }

  /**
   * Returns this configuration with another keep-alive (see {@link Builder#keepAlive}), as
   * Ollama's per-request {@code keep_alive} changes it.
   */
  public ModelConfig withKeepAlive(Duration keepAlive) {
    java.util.Objects.requireNonNull(keepAlive, "keepAlive");
    return keepAlive.equals(this.keepAlive) ? this : new ModelConfig(this, keepAlive);
  }

  /** Returns the configuration used for models that set none. */
  public static ModelConfig defaults() {
    return DEFAULTS;
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the version policy; defaults to {@code latest(1)}. */
  public VersionPolicy versionPolicy() {
    return versionPolicy;
  }

  /**
   * Returns the declared warm-up samples; when empty and {@link #warmup()} is on, one request of
   * zeros (one row for dynamic dimensions) is built from the metadata.
   */
  public List<Map<String, Tensor>> warmupSamples() {
    return warmupSamples;
  }

  /** Returns whether a new version is warmed up before it serves; defaults to true. */
  public boolean warmup() {
    return warmup;
  }

  /**
   * Returns how many times warm-up runs its samples (all of them, in order) before a version
   * becomes ready; defaults to 1. Engines that tune themselves on the first runs (a JIT, a kernel
   * autotuner, a memory arena) may need a few. Only counts when {@link #warmup()} is on.
   */
  public int warmupIterations() {
    return warmupIterations;
  }

  /**
   * Returns how long an unloading version waits for its in-flight requests before failing the ones
   * that have not started with {@code SHUTTING_DOWN}; defaults to {@link #DEFAULT_DRAIN_GRACE}.
   */
  public Duration drainGrace() {
    return drainGrace;
  }

  /** Returns the engine that must load this model; empty lets the registry choose. */
  public Optional<String> backend() {
    return Optional.ofNullable(backend);
  }

  /** Returns how requests are queued and batched; defaults to {@link BatchingPolicy#defaults()}. */
  public BatchingPolicy batching() {
    return batching;
  }

  /**
   * Returns how long a version may stay loaded with no request before it unloads (Ollama's
   * keep_alive): zero unloads it as soon as it is idle, negative (the default) never. An unloaded
   * version that was loaded through the registry loads again on its next request.
   */
  public Duration keepAlive() {
    return keepAlive;
  }

  /**
   * Returns the declared native memory of one version in bytes, or -1 (the default) to use what
   * the engine reports, else the artifact's size times the engine's factor.
   */
  public long memoryBytes() {
    return memoryBytes;
  }

  /**
   * Returns whether floating-point inputs holding NaN are refused with {@code INVALID_INPUT}
   * before they are queued; defaults to false (checking reads every element).
   */
  public boolean rejectNaN() {
    return rejectNaN;
  }

  /**
   * Returns the most bytes of text (UTF-8, over every STRING element of a request's inputs, and
   * over a generation's prompt or messages) the model takes; a request with more is refused with
   * {@code PAYLOAD_TOO_LARGE} before it is queued. Defaults to {@link #DEFAULT_MAX_TEXT_BYTES}.
   */
  public long maxTextBytes() {
    return maxTextBytes;
  }

  /**
   * Returns the most elements (over every input of a request) the model takes; a request with more
   * is refused with {@code PAYLOAD_TOO_LARGE} before it is queued. Defaults to {@link
   * #DEFAULT_MAX_ELEMENTS}.
   */
  public long maxElements() {
    return maxElements;
  }

  /**
   * Returns the pre- and post-processing of every request to the model ({@link ModelProcessing});
   * a request that gives its own part ({@link ModelServer#infer(dev.modserv.api.InferenceRequest,
   * ModelProcessing)}) replaces that part. Defaults to none.
   */
  public ModelProcessing processing() {
    return processing;
  }

  /**
   * Returns whether answers of this model are kept in the server's response cache ({@code
   * docs/caching.md}); defaults to false. Takes effect only when the server has a cache bound
   * ({@link ModelServer.Builder#responseCacheBytes}).
   */
  public boolean responseCache() {
    return responseCache;
  }

  /**
   * Returns whether the vectors of an embedding model are cached per text ({@code
   * docs/embedding-cache.md}); defaults to false.
   */
  public boolean embeddingCache() {
    return embeddingCache;
  }

  /** Returns the use cases the model declares ({@link #USE_CASES}); empty when it declares none. */
  public List<String> useCases() {
    return useCases;
  }

  /** Builds a {@link ModelConfig}; each option may be set once. */
  public static final class Builder {
    private @Nullable VersionPolicy versionPolicy;
    private final List<Map<String, Tensor>> warmupSamples = new ArrayList<>();
    private boolean warmup = true;
    private boolean warmupSet;
    private int warmupIterations = 1;
    private boolean warmupIterationsSet;
    private @Nullable Duration drainGrace;
    private @Nullable String backend;
    private @Nullable BatchingPolicy batching;
    private @Nullable Duration keepAlive;
    private long memoryBytes = -1;
    private boolean rejectNaN;
    private boolean rejectNaNSet;
    private @Nullable ModelProcessing processing;
    private boolean responseCache;
    private boolean responseCacheSet;
    private boolean embeddingCache;
    private boolean embeddingCacheSet;
    private long maxTextBytes;
    private long maxElements;
    private final List<String> useCases = new ArrayList<>();

    private Builder() {}

    /**
     * Declares what the model is for, each one of {@link #USE_CASES}, for the node fit report's
     * {@code use_case} filter. In a {@code model.yaml}, the key {@code use-cases}.
     *
     * @throws IllegalArgumentException naming a use case that is not one of {@link #USE_CASES}
     */
    public Builder useCases(List<String> cases) {
      if (!useCases.isEmpty()) {
        throw new IllegalStateException("useCases was already set to " + useCases);
      }
      for (String c : cases) {
        if (!USE_CASES.contains(c)) {
          throw new IllegalArgumentException("unknown use case '" + c + "': use one of "
              + String.join(", ", USE_CASES));
        }
        if (!useCases.contains(c)) {
          useCases.add(c);
        }
      }
      return this;
    }

    /**
     * Sets the most bytes of text one request may carry (see {@link ModelConfig#maxTextBytes()});
     * at least 1. In a {@code model.yaml}, the key {@code max-text-bytes}.
     */
    public Builder maxTextBytes(long bytes) {
      if (maxTextBytes != 0) {
        throw new IllegalStateException("maxTextBytes was already set to " + maxTextBytes);
      }
      if (bytes < 1) {
        throw new IllegalArgumentException("maxTextBytes must be >= 1: " + bytes);
      }
      this.maxTextBytes = bytes;
      return this;
    }

    /**
     * Sets the most elements one request may carry (see {@link ModelConfig#maxElements()}); at
     * least 1. In a {@code model.yaml}, the key {@code max-elements}.
     */
    public Builder maxElements(long elements) {
      if (maxElements != 0) {
        throw new IllegalStateException("maxElements was already set to " + maxElements);
      }
      if (elements < 1) {
        throw new IllegalArgumentException("maxElements must be >= 1: " + elements);
      }
      this.maxElements = elements;
      return this;
    }

    /**
     * Keeps this model's answers in the server's response cache, so that a request identical to an
     * earlier one (same version, inputs, requested outputs and parameters) is answered without the
     * engine ({@code docs/caching.md}); off by default. Only for deterministic models: a model
     * whose answer to the same input changes from call to call must not turn it on. In a {@code
     * model.yaml}, the key {@code response-cache}.
     */
    public Builder responseCache(boolean enabled) {
      if (responseCacheSet) {
        throw new IllegalStateException("responseCache was already set to " + responseCache);
      }
      this.responseCache = enabled;
      this.responseCacheSet = true;
      return this;
    }

    /**
     * Caches the vector and token count of each text an {@link dev.modserv.api.Capability#EMBEDDING}
     * model embeds, per version, in the server's embedding cache (bounded by {@link
     * ModelServer.Builder#embeddingCacheBytes}): a request runs the model only on the texts that
     * version has not embedded yet ({@code docs/embedding-cache.md}). In a {@code model.yaml},
     * {@code embedding-cache: true}. Other models ignore it.
     */
    public Builder embeddingCache(boolean enabled) {
      if (embeddingCacheSet) {
        throw new IllegalStateException("embeddingCache was already set to " + embeddingCache);
      }
      this.embeddingCache = enabled;
      this.embeddingCacheSet = true;
      return this;
    }

    /**
     * Pre- and post-processes every request to the model: inputs before they are checked and
     * queued, outputs of the result ({@code docs/processing.md}). In a {@code model.yaml}, the
     * keys {@code preprocessing} and {@code postprocessing}.
     */
    public Builder processing(ModelProcessing processing) {
      if (this.processing != null) {
        throw new IllegalStateException("processing was already set to " + this.processing);
      }
      this.processing = java.util.Objects.requireNonNull(processing, "processing");
      return this;
    }

    /** Refuses floating-point inputs holding NaN (FP32, FP64, FP16, BF16) with INVALID_INPUT. */
    public Builder rejectNaN(boolean reject) {
      if (rejectNaNSet) {
        throw new IllegalStateException("rejectNaN was already set to " + rejectNaN);
      }
      this.rejectNaN = reject;
      this.rejectNaNSet = true;
      return this;
    }

    /** Sets the idle keep-alive: positive, zero (unload when idle) or negative (never). */
    public Builder keepAlive(Duration keepAlive) {
      if (this.keepAlive != null) {
        throw new IllegalStateException("keepAlive was already set to " + this.keepAlive);
      }
      this.keepAlive = java.util.Objects.requireNonNull(keepAlive, "keepAlive");
      return this;
    }

    /** Declares one version's native memory in bytes; at least 1. */
    public Builder memoryBytes(long bytes) {
      if (memoryBytes != -1) {
        throw new IllegalStateException("memoryBytes was already set to " + memoryBytes);
      }
      if (bytes < 1) {
        throw new IllegalArgumentException("memoryBytes must be >= 1: " + bytes);
      }
      this.memoryBytes = bytes;
      return this;
    }

    /** Sets how requests are queued and batched. */
    public Builder batching(BatchingPolicy policy) {
      if (batching != null) {
        throw new IllegalStateException("batching was already set to " + batching);
      }
      this.batching = java.util.Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Sets the version policy; defaults to {@code latest(1)}. */
    public Builder versionPolicy(VersionPolicy policy) {
      if (versionPolicy != null) {
        throw new IllegalStateException("versionPolicy was already set to " + versionPolicy);
      }
      this.versionPolicy = java.util.Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Adds a warm-up request: inputs by name, as a caller would send them. */
    public Builder warmupSample(Map<String, Tensor> inputs) {
      if (inputs.isEmpty()) {
        throw new IllegalArgumentException("a warm-up sample needs at least one input");
      }
      warmupSamples.add(java.util.Collections.unmodifiableMap(new LinkedHashMap<>(inputs)));
      return this;
    }

    /** Turns warm-up on (the default) or off. */
    public Builder warmup(boolean enabled) {
      if (warmupSet) {
        throw new IllegalStateException("warmup was already set to " + warmup);
      }
      this.warmup = enabled;
      this.warmupSet = true;
      return this;
    }

    /**
     * Sets how many times warm-up runs its samples; at least 1 (to skip warm-up, turn it off with
     * {@link #warmup(boolean)}). Defaults to 1.
     */
    public Builder warmupIterations(int iterations) {
      if (warmupIterationsSet) {
        throw new IllegalStateException("warmupIterations was already set to " + warmupIterations);
      }
      if (iterations < 1) {
        throw new IllegalArgumentException("warmupIterations must be >= 1 (turn warm-up off with"
            + " warmup(false) instead): " + iterations);
      }
      this.warmupIterations = iterations;
      this.warmupIterationsSet = true;
      return this;
    }

    /** Sets the drain grace; zero fails not-yet-started requests at once. Must not be negative. */
    public Builder drainGrace(Duration grace) {
      if (drainGrace != null) {
        throw new IllegalStateException("drainGrace was already set to " + drainGrace);
      }
      if (grace.isNegative()) {
        throw new IllegalArgumentException("drainGrace must not be negative: " + grace);
      }
      this.drainGrace = grace;
      return this;
    }

    /** Names the engine that must load this model, e.g. {@code onnxruntime}. */
    public Builder backend(String name) {
      if (backend != null) {
        throw new IllegalStateException("backend was already set to " + backend);
      }
      if (name.isBlank()) {
        throw new IllegalArgumentException("backend name must not be blank");
      }
      this.backend = name;
      return this;
    }

    /**
     * Returns the configuration.
     *
     * @throws IllegalStateException when samples are declared but warm-up is off
     */
    public ModelConfig build() {
      if (!warmup && !warmupSamples.isEmpty()) {
        throw new IllegalStateException(
            "warm-up samples are declared but warm-up is off; drop the samples or turn it on");
      }
      return new ModelConfig(this);
    }
  }
}
