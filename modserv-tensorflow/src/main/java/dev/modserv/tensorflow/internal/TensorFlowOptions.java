package dev.modserv.tensorflow.internal;

import dev.modserv.spi.EngineOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The engine options of one model, parsed and checked: the engine's defaults overlaid with the
 * model source's options. Unknown keys and bad values are refused with a message naming the key.
 */
public final class TensorFlowOptions {
  /** The signature to serve; default {@code serving_default}. */
  public static final String SIGNATURE = "signature";
  /** The meta-graph tags to load, comma-separated; default {@code serve}. */
  public static final String TAGS = "tags";
  /** Threads inside one operator; TensorFlow's default (one per core) when absent. */
  public static final String INTRA_OP_THREADS = "intra-op-threads";
  /** Threads across operators; TensorFlow's default when absent. */
  public static final String INTER_OP_THREADS = "inter-op-threads";
  /** The model's native memory in bytes for the server's budget, when the estimate is off. */
  public static final String MEMORY_BYTES = "memory-bytes";
  /**
   * Where JavaCPP unpacks TensorFlow's native libraries (about 650 MB), process-wide, before the
   * first model loads; the system property {@code org.bytedeco.javacpp.cachedir} wins over it.
   */
  public static final String CACHE_DIR = "cache-dir";

  /** The engine's name in option messages. */
  private static final String ENGINE = "tensorflow";

  /** Every key this engine reads, in documentation order. */
  public static final List<String> KNOWN =
      List.of(SIGNATURE, TAGS, INTRA_OP_THREADS, INTER_OP_THREADS, MEMORY_BYTES, CACHE_DIR);

  /** The signature served when none is named. */
  public static final String DEFAULT_SIGNATURE = "serving_default";

  /** The tags loaded when none are named. */
  public static final String DEFAULT_TAGS = "serve";

  private final String signature;
  private final List<String> tags;
  private final int intraOpThreads;
  private final int interOpThreads;
  private final long memoryBytes;
  private final @Nullable Path cacheDir;

  private TensorFlowOptions(EngineOptions options) {
    String sig = options.string(SIGNATURE, DEFAULT_SIGNATURE).trim();
    if (sig.isEmpty()) {
      throw options.invalid(SIGNATURE, "expected a signature name, got ''");
    }
    signature = sig;
    tags = options.list(TAGS, DEFAULT_TAGS);
    intraOpThreads = options.positiveInt(INTRA_OP_THREADS);
    interOpThreads = options.positiveInt(INTER_OP_THREADS);
    memoryBytes = options.wholeNumber(MEMORY_BYTES, 0, Long.MAX_VALUE, -1);
    cacheDir = options.path(CACHE_DIR);
  }

  /**
   * Parses {@code defaults} overlaid with {@code overrides}.
   *
   * @throws IllegalArgumentException naming the key, for an unknown key or a bad value
   */
  public static TensorFlowOptions parse(Map<String, String> defaults, Map<String, String> overrides) {
    return new TensorFlowOptions(new EngineOptions(ENGINE, KNOWN, defaults, overrides));
  }

  /** Checks one option as {@link #parse} would; throws for an unknown key or a bad value. */
  public static void check(String key, String value) {
    parse(Map.of(), Map.of(key, value));
  }

  /** Returns the signature to serve. */
  public String signature() {
    return signature;
  }

  /** Returns the meta-graph tags to load. */
  public List<String> tags() {
    return tags;
  }

  /** Returns the intra-op thread count, or -1 for TensorFlow's default. */
  public int intraOpThreads() {
    return intraOpThreads;
  }

  /** Returns the inter-op thread count, or -1 for TensorFlow's default. */
  public int interOpThreads() {
    return interOpThreads;
  }

  /** Returns the configured memory in bytes, or -1 to estimate. */
  public long memoryBytes() {
    return memoryBytes;
  }

  /** Returns the JavaCPP cache folder asked for, or null for JavaCPP's default. */
  public @Nullable Path cacheDir() {
    return cacheDir;
  }
}
