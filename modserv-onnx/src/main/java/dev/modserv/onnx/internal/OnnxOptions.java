package dev.modserv.onnx.internal;

import ai.onnxruntime.OrtSession.SessionOptions.ExecutionMode;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.modserv.spi.EngineOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The engine options of one model, parsed and checked: the engine's defaults overlaid with the
 * model source's options. Unknown keys and bad values are refused with a message naming the key.
 */
public final class OnnxOptions {
  /** Threads inside one operator; ONNX Runtime's default (one per physical core) when absent. */
  public static final String INTRA_OP_THREADS = "intra-op-threads";
  /** Threads across operators, for {@code execution-mode=parallel}. */
  public static final String INTER_OP_THREADS = "inter-op-threads";
  /** Graph optimisation: {@code none}, {@code basic}, {@code extended}, {@code all} (default). */
  public static final String OPTIMIZATION_LEVEL = "optimization-level";
  /** {@code sequential} (default) or {@code parallel}. */
  public static final String EXECUTION_MODE = "execution-mode";
  /** Comma-separated, in order of preference, e.g. {@code cuda,cpu}; default {@code cpu}. */
  public static final String EXECUTION_PROVIDERS = "execution-providers";
  /** The model's native memory in bytes for the server's budget, when the estimate is off. */
  public static final String MEMORY_BYTES = "memory-bytes";
  /** A Hugging Face {@code tokenizer.json}: the model becomes a text-embedding model. */
  public static final String TOKENIZER = "tokenizer";
  /** Tokens per text for an embedding model; longer texts are truncated. Default 128. */
  public static final String MAX_LENGTH = "max-length";
  /** Where the tokenizer library unpacks its native code. */
  public static final String CACHE_DIR = "cache-dir";

  /** The engine's name in option messages. */
  private static final String ENGINE = "onnxruntime";

  /** Every key this engine reads, in documentation order. */
  public static final List<String> KNOWN =
      List.of(
          INTRA_OP_THREADS,
          INTER_OP_THREADS,
          OPTIMIZATION_LEVEL,
          EXECUTION_MODE,
          EXECUTION_PROVIDERS,
          MEMORY_BYTES,
          TOKENIZER,
          MAX_LENGTH,
          CACHE_DIR);

  /** Execution providers this engine can ask ONNX Runtime for. */
  public static final List<String> PROVIDERS = List.of("cuda", "rocm", "dnnl", "coreml", "cpu");

  /** Default tokens per text of an embedding model. */
  public static final int DEFAULT_MAX_LENGTH = 128;

  private final int intraOpThreads;
  private final int interOpThreads;
  private final @Nullable OptLevel optimizationLevel;
  private final @Nullable ExecutionMode executionMode;
  private final List<String> executionProviders;
  private final long memoryBytes;
  private final @Nullable Path tokenizer;
  private final int maxLength;
  private final @Nullable Path cacheDir;

  private OnnxOptions(EngineOptions options) {
    intraOpThreads = options.positiveInt(INTRA_OP_THREADS);
    interOpThreads = options.positiveInt(INTER_OP_THREADS);
    String level = options.get(OPTIMIZATION_LEVEL);
    optimizationLevel = level == null ? null : optLevel(options, level);
    String mode = options.get(EXECUTION_MODE);
    executionMode = mode == null ? null : executionMode(options, mode);
    executionProviders = providers(options);
    memoryBytes = options.wholeNumber(MEMORY_BYTES, 0, Long.MAX_VALUE, -1);
    tokenizer = options.path(TOKENIZER);
    maxLength = options.integer(MAX_LENGTH, 1, Integer.MAX_VALUE, DEFAULT_MAX_LENGTH);
    cacheDir = options.path(CACHE_DIR);
  }

  /**
   * Parses {@code defaults} overlaid with {@code overrides}.
   *
   * @throws IllegalArgumentException naming the key, for an unknown key or a bad value
   */
  public static OnnxOptions parse(Map<String, String> defaults, Map<String, String> overrides) {
    return new OnnxOptions(new EngineOptions(ENGINE, KNOWN, defaults, overrides));
  }

  /** Checks one option as {@link #parse} would; throws for an unknown key or a bad value. */
  public static void check(String key, String value) {
    parse(Map.of(), Map.of(key, value));
  }

  private static OptLevel optLevel(EngineOptions options, String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "none" -> OptLevel.NO_OPT;
      case "basic" -> OptLevel.BASIC_OPT;
      case "extended" -> OptLevel.EXTENDED_OPT;
      case "all" -> OptLevel.ALL_OPT;
      default ->
          throw options.invalid(OPTIMIZATION_LEVEL,
              "expected none, basic, extended or all, got '" + value + "'");
    };
  }

  private static ExecutionMode executionMode(EngineOptions options, String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "sequential" -> ExecutionMode.SEQUENTIAL;
      case "parallel" -> ExecutionMode.PARALLEL;
      default ->
          throw options.invalid(EXECUTION_MODE,
              "expected sequential or parallel, got '" + value + "'");
    };
  }

  private static List<String> providers(EngineOptions options) {
    List<String> out = new ArrayList<>();
    for (String part : options.list(EXECUTION_PROVIDERS, "cpu")) {
      String name = part.toLowerCase(Locale.ROOT);
      if (!PROVIDERS.contains(name)) {
        throw options.invalid(EXECUTION_PROVIDERS, "unknown provider '" + part
            + "'; known providers: " + String.join(", ", PROVIDERS));
      }
      if (!out.contains(name)) {
        out.add(name);
      }
    }
    return List.copyOf(out);
  }

  /** Returns the intra-op thread count, or -1 for ONNX Runtime's default. */
  public int intraOpThreads() {
    return intraOpThreads;
  }

  /** Returns the inter-op thread count, or -1 for ONNX Runtime's default. */
  public int interOpThreads() {
    return interOpThreads;
  }

  /** Returns the graph optimisation level, or null for ONNX Runtime's default. */
  public @Nullable OptLevel optimizationLevel() {
    return optimizationLevel;
  }

  /** Returns the execution mode, or null for ONNX Runtime's default. */
  public @Nullable ExecutionMode executionMode() {
    return executionMode;
  }

  /** Returns the execution providers in order of preference (lower case). */
  public List<String> executionProviders() {
    return executionProviders;
  }

  /** Returns the configured memory in bytes, or -1 to estimate. */
  public long memoryBytes() {
    return memoryBytes;
  }

  /** Returns the tokenizer file given as an option, or null. */
  public @Nullable Path tokenizer() {
    return tokenizer;
  }

  /** Returns the tokens per text of an embedding model. */
  public int maxLength() {
    return maxLength;
  }

  /** Returns the tokenizer library's cache folder, or null for the default. */
  public @Nullable Path cacheDir() {
    return cacheDir;
  }
}
