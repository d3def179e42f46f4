package dev.modserv.onnx;

import ai.onnxruntime.OnnxModelMetadata;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.modserv.onnx.internal.EmbeddingModel;
import dev.modserv.onnx.internal.ModelFiles;
import dev.modserv.onnx.internal.OnnxInitializers;
import dev.modserv.onnx.internal.OnnxModel;
import dev.modserv.onnx.internal.OnnxOptions;
import dev.modserv.onnx.internal.Sessions;
import dev.modserv.spi.FileBackend;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ONNX Runtime engine. It loads a {@code .onnx} file, or a folder holding exactly one, into a
 * tensor model whose metadata comes from the session; with a tokenizer (the option {@code
 * tokenizer}, or a {@code tokenizer.json} next to the model in its folder) it loads a transformer
 * encoder as a text-embedding model instead.
 *
 * <p>Options (from {@link ModelSource#options()}, over this backend's defaults): {@code
 * intra-op-threads}, {@code inter-op-threads}, {@code optimization-level} ({@code
 * none|basic|extended|all}), {@code execution-mode} ({@code sequential|parallel}), {@code
 * execution-providers} (e.g. {@code cuda,cpu}: the first available one is used, CPU when none is),
 * {@code memory-bytes}; for embedding models {@code tokenizer}, {@code max-length} (default 128),
 * {@code cache-dir}. An unknown key or a bad value fails the load, naming the key.
 *
 * <p>Every backend shares ONNX Runtime's one process-wide environment, created when the first
 * model loads; {@link #close()} leaves it to other users in the process.
 *
 * <pre>{@code
 * OnnxBackend onnx = OnnxBackend.builder().intraOpThreads(2).optimizationLevel("all").build();
 * ModelServer server = ModelServer.builder().backend(onnx).build();
 * }</pre>
 */
public final class OnnxBackend extends FileBackend {
  /** The engine's name. */
  public static final String NAME = "onnxruntime";

  private static final Logger LOG = LoggerFactory.getLogger(OnnxBackend.class);

  /** A session's arenas and thread pools, on top of its weights. */
  private static final long SESSION_OVERHEAD_BYTES = 16L << 20;

  /** Creates a backend with ONNX Runtime's defaults. */
  public OnnxBackend() {
    this(Map.of());
  }

  private OnnxBackend(Map<String, String> defaults) {
    super(NAME, defaults);
  }

  /** Returns a builder of a backend with default options for every model it loads. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the process-wide ONNX Runtime environment, creating it on the first call. */
  static OrtEnvironment environment() {
    return EnvironmentHolder.ENV;
  }

  private static final class EnvironmentHolder {
    // ONNX Runtime's own logging goes to stderr: keep it to errors.
    static final OrtEnvironment ENV =
        OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "modserv");
  }

  @Override
  public boolean supports(ModelSource source) {
    return ModelFiles.isOnnx(source.location());
  }

  @Override
  public LoadedModel load(ModelSource source) throws Exception {
    OnnxOptions options = OnnxOptions.parse(defaults(), source.options());
    Path location = source.location();
    Path modelFile = ModelFiles.onnxFile(location);
    Path given = options.tokenizer();
    Path tokenizer = given != null ? given : ModelFiles.tokenizerIn(location);
    OrtEnvironment env = environment();
    Sessions.Opened opened = Sessions.open(env, modelFile, options);
    return wrapOrClose(opened.session(), session -> {
      long memory = memoryBytes(options.memoryBytes(),
          ModelFiles.artifactBytes(location, modelFile), SESSION_OVERHEAD_BYTES);
      Map<String, String> properties = properties(env, session, opened.provider());
      int runs = opened.concurrentRuns();
      LoadedModel model = tokenizer == null
          ? new OnnxModel(env, session, NAME, properties, memory, runs, opened.onCpu())
          : EmbeddingModel.create(env, session, tokenizer, options, NAME, properties, memory,
              runs);
      LOG.debug("loaded {} ({}) on {}", modelFile, tokenizer == null ? "tensors" : "embeddings",
          opened.provider());
      return model;
    });
  }

  private static Map<String, String> properties(
      OrtEnvironment env, OrtSession session, String provider) {
    Map<String, String> properties = new LinkedHashMap<>();
    properties.put("onnxruntime.version", env.getVersion());
    properties.put("execution-provider", provider);
    try {
      OnnxModelMetadata m = session.getMetadata();
      putIfPresent(properties, "producer", m.getProducerName());
      putIfPresent(properties, "graph", m.getGraphName());
      putIfPresent(properties, "description", m.getDescription());
      if (m.getVersion() != 0) {
        properties.put("model-version", Long.toString(m.getVersion()));
      }
    } catch (Exception e) {
      LOG.debug("no model metadata", e);
    }
    return properties;
  }

  private static void putIfPresent(Map<String, String> map, String key, @Nullable String value) {
    if (value != null && !value.isBlank()) {
      map.put(key, value);
    }
  }

  /**
   * A session's native memory is its weights twice (ONNX Runtime keeps the initializers and may
   * pre-pack a copy for its kernels) plus {@code SESSION_OVERHEAD_BYTES}.
   */
  @Override
  public double memoryFactor() {
    return 2.0;
  }

  /**
   * Resident memory a session adds per byte of initializers, measured with generated models
   * ({@code docs/node-fit.md}): the initializers are held once.
   */
  static final double NODE_WEIGHT_FACTOR = 1.0;

  /**
   * Resident memory a session adds beyond its weights; with {@link #RUNTIME_BYTES}, what the first
   * model of a process measured beyond its weights ({@code docs/node-fit.md}).
   */
  static final long NODE_SESSION_BYTES = 9L << 19;

  /** ONNX Runtime's native library and environment, once per process. */
  static final long RUNTIME_BYTES = 24L << 20;

  /** The initializers' bytes (from the file's protobuf) times a factor plus the session. */
  @Override
  public long nodeMemoryBytes(ModelSource source, int maxContextTokens) {
    try {
      return nodeMemoryBytes(OnnxInitializers.bytes(ModelFiles.onnxFile(source.location())), 0);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  @Override
  public long nodeMemoryBytes(long weightBytes, long contextCacheBytes) {
    return (long) (weightBytes * NODE_WEIGHT_FACTOR) + contextCacheBytes + NODE_SESSION_BYTES;
  }

  @Override
  public long runtimeBytes() {
    return RUNTIME_BYTES;
  }

  /** Builds an {@link OnnxBackend} whose options are the defaults of every model it loads. */
  public static final class Builder extends FileBackend.Builder<Builder, OnnxBackend> {
    private Builder() {}

    /** Sets the threads inside one operator (ONNX Runtime's default: one per physical core). */
    public Builder intraOpThreads(int threads) {
      return option(OnnxOptions.INTRA_OP_THREADS, Integer.toString(threads));
    }

    /** Sets the threads across operators, used with {@code execution-mode=parallel}. */
    public Builder interOpThreads(int threads) {
      return option(OnnxOptions.INTER_OP_THREADS, Integer.toString(threads));
    }

    /** Sets the graph optimisation level: {@code none}, {@code basic}, {@code extended}, {@code all}. */
    public Builder optimizationLevel(String level) {
      return option(OnnxOptions.OPTIMIZATION_LEVEL, level);
    }

    /** Sets the execution mode: {@code sequential} or {@code parallel}. */
    public Builder executionMode(String mode) {
      return option(OnnxOptions.EXECUTION_MODE, mode);
    }

    /** Sets the execution providers in order of preference, e.g. {@code "cuda", "cpu"}. */
    public Builder executionProviders(String... providers) {
      return option(OnnxOptions.EXECUTION_PROVIDERS, String.join(",", List.of(providers)));
    }

    /** Sets the folder where the tokenizer library unpacks its native code. */
    public Builder cacheDir(Path folder) {
      return option(OnnxOptions.CACHE_DIR, folder.toString());
    }

    @Override
    protected void check(String key, String value) {
      OnnxOptions.check(key, value);
    }

    @Override
    protected OnnxBackend create(Map<String, String> defaults) {
      return new OnnxBackend(defaults);
    }
  }
}
