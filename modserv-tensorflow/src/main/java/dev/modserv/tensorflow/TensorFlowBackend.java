package dev.modserv.tensorflow;

import dev.modserv.spi.FileBackend;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import dev.modserv.tensorflow.internal.NativeRuntime;
import dev.modserv.tensorflow.internal.SavedModels;
import dev.modserv.tensorflow.internal.TensorFlowModel;
import dev.modserv.tensorflow.internal.TensorFlowOptions;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.proto.ConfigProto;

/**
 * The TensorFlow Java engine. It loads a SavedModel folder ({@code saved_model.pb} and {@code
 * variables/}) and serves one of its signatures: the signature's inputs and outputs, with their
 * names, types and shapes, are the model's metadata, and the model is {@code BATCHABLE} when every
 * one of them has a dynamic first dimension.
 *
 * <p>Options (from {@link ModelSource#options()}, over this backend's defaults): {@code signature}
 * (default {@code serving_default}), {@code tags} (comma-separated, default {@code serve}), {@code
 * intra-op-threads}, {@code inter-op-threads}, {@code memory-bytes}, {@code cache-dir}. An unknown
 * key or a bad value fails the load, naming the key.
 *
 * <p>Native libraries: the first model to load unpacks TensorFlow's native libraries (about 650
 * MB) into JavaCPP's cache folder: the system property {@code org.bytedeco.javacpp.cachedir} when
 * set, else the {@code cache-dir} option of that first load, else {@code .javacpp/cache} under the
 * user's home. The folder is process-wide; later loads reuse it.
 *
 * <pre>{@code
 * TensorFlowBackend tf = TensorFlowBackend.builder().intraOpThreads(2).cacheDir(cache).build();
 * ModelServer server = ModelServer.builder().backend(tf).build();
 * }</pre>
 */
public final class TensorFlowBackend extends FileBackend {
  /** The engine's name. */
  public static final String NAME = "tensorflow";

  private static final Logger LOG = LoggerFactory.getLogger(TensorFlowBackend.class);

  /** A session's state and thread pools, on top of its files. */
  private static final long SESSION_OVERHEAD_BYTES = 32L << 20;

  /** Creates a backend with TensorFlow's defaults. */
  public TensorFlowBackend() {
    this(Map.of());
  }

  private TensorFlowBackend(Map<String, String> defaults) {
    super(NAME, defaults);
  }

  /** Returns a builder of a backend with default options for every model it loads. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public boolean supports(ModelSource source) {
    return SavedModels.isSavedModel(source.location());
  }

  @Override
  public LoadedModel load(ModelSource source) throws Exception {
    TensorFlowOptions options = TensorFlowOptions.parse(defaults(), source.options());
    Path location = source.location();
    if (!SavedModels.isSavedModel(location)) {
      throw new IllegalArgumentException(location
          + " is not a SavedModel folder (saved_model.pb and variables/)");
    }
    String version = NativeRuntime.load(options.cacheDir());
    ConfigProto.Builder config = ConfigProto.newBuilder();
    if (options.intraOpThreads() > 0) {
      config.setIntraOpParallelismThreads(options.intraOpThreads());
    }
    if (options.interOpThreads() > 0) {
      config.setInterOpParallelismThreads(options.interOpThreads());
    }
    SavedModelBundle bundle = SavedModelBundle.loader(location.toString())
        .withTags(options.tags().toArray(String[]::new))
        .withConfigProto(config.build())
        .load();
    return wrapOrClose(bundle, opened -> {
      long memory = memoryBytes(options.memoryBytes(), SavedModels.artifactBytes(location),
          SESSION_OVERHEAD_BYTES);
      Map<String, String> properties = new LinkedHashMap<>();
      properties.put("tensorflow.version", version);
      properties.put("tags", String.join(",", options.tags()));
      TensorFlowModel model =
          new TensorFlowModel(opened, options.signature(), NAME, properties, memory);
      LOG.debug("loaded {} (signature {}, tags {})", location, options.signature(),
          options.tags());
      return model;
    });
  }

  /**
   * A SavedModel's native memory is its files twice (the graph and the variables, read then held by
   * the session) plus {@code SESSION_OVERHEAD_BYTES}. The process-wide runtime itself (about 400
   * MB) is not counted against any model.
   */
  @Override
  public double memoryFactor() {
    return 2.0;
  }

  /**
   * Resident memory a session adds per byte of variables, measured with generated SavedModels
   * ({@code docs/node-fit.md}).
   */
  static final double NODE_WEIGHT_FACTOR = 1.15;

  /**
   * Resident memory a session adds beyond its variables; with {@link #RUNTIME_BYTES}, what the
   * first model of a process measured beyond its variables ({@code docs/node-fit.md}).
   */
  static final long NODE_SESSION_BYTES = 2L << 20;

  /** The TensorFlow runtime (native library, kernels), once per process. */
  static final long RUNTIME_BYTES = 240L << 20;

  /** The variables' bytes ({@code variables/}) times a factor, the graph, plus the session. */
  @Override
  public long nodeMemoryBytes(ModelSource source, int maxContextTokens) {
    Path location = source.location();
    if (!SavedModels.isSavedModel(location)) {
      return -1;
    }
    try {
      long variables = SavedModels.artifactBytes(location.resolve("variables"));
      long graph = SavedModels.artifactBytes(location) - variables;
      return nodeMemoryBytes(variables, 0) + graph;
    } catch (RuntimeException e) {
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

  /** Builds a {@link TensorFlowBackend} whose options are the defaults of every model it loads. */
  public static final class Builder extends FileBackend.Builder<Builder, TensorFlowBackend> {
    private Builder() {}

    /** Sets the signature served when a model names none (default {@code serving_default}). */
    public Builder signature(String signature) {
      return option(TensorFlowOptions.SIGNATURE, signature);
    }

    /** Sets the meta-graph tags loaded (default {@code serve}). */
    public Builder tags(String... tags) {
      return option(TensorFlowOptions.TAGS, String.join(",", tags));
    }

    /** Sets the threads inside one operator (TensorFlow's default: one per core). */
    public Builder intraOpThreads(int threads) {
      return option(TensorFlowOptions.INTRA_OP_THREADS, Integer.toString(threads));
    }

    /** Sets the threads across operators. */
    public Builder interOpThreads(int threads) {
      return option(TensorFlowOptions.INTER_OP_THREADS, Integer.toString(threads));
    }

    /**
     * Sets the folder where JavaCPP unpacks TensorFlow's native libraries on the first load; the
     * system property {@code org.bytedeco.javacpp.cachedir} wins over it.
     */
    public Builder cacheDir(Path folder) {
      return option(TensorFlowOptions.CACHE_DIR, folder.toString());
    }

    @Override
    protected void check(String key, String value) {
      TensorFlowOptions.check(key, value);
    }

    @Override
    protected TensorFlowBackend create(Map<String, String> defaults) {
      return new TensorFlowBackend(defaults);
    }
  }
}
