package dev.modserv.llama.internal;

import dev.modserv.spi.EngineOptions;
import dev.modserv.spi.ModelSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The llama engine's options, parsed and checked in Java before anything reaches llama.cpp (some
 * bad values abort or crash the native code). Every failure names the option and what it takes.
 *
 * @param inProcess run the model in this JVM instead of a worker process
 * @param contextSize context tokens, shared by the parallel sequences
 * @param threads CPU threads for decoding
 * @param parallel sequences decoded at once (continuous batching)
 * @param seed the default sampling seed, or -1 for none
 * @param embedding load for embeddings instead of generation
 * @param pooling the embedding pooling: last, cls or none
 * @param batchSize the logical batch size, or -1 for llama.cpp's default
 * @param workerJvmOptions extra options for the worker JVM
 * @param workerStartSeconds how long a worker may take to start and load
 * @param gpuLayers layers offloaded to a GPU (0 on a CPU-only build of llama.cpp)
 * @param chatTemplate a llama.cpp built-in chat template replacing the GGUF's, or "" for the
 *     GGUF's own
 */
public record LlamaOptions(boolean inProcess, int contextSize, int threads, int parallel,
    long seed, boolean embedding, String pooling, int batchSize, List<String> workerJvmOptions,
    int workerStartSeconds, int gpuLayers, String chatTemplate) {

  /** The keys this engine reads. */
  public static final Set<String> KEYS = Set.of("mode", "context-size", "threads", "parallel",
      "seed", "embedding", "pooling", "batch-size", "worker-jvm-options", "worker-start-seconds",
      "gpu-layers", "chat-template");

  /**
   * The chat templates {@code chat-template} takes: llama.cpp's built-in ones that its bundled
   * version knows. Free text is refused, since an unknown template aborts the native code.
   */
  public static final Set<String> CHAT_TEMPLATES = Set.of("chatml", "llama2", "llama2-sys",
      "llama3", "mistral-v1", "mistral-v3", "mistral-v7", "phi3", "zephyr", "monarch", "gemma",
      "orion", "openchat", "vicuna", "vicuna-orca", "deepseek", "deepseek2", "command-r",
      "chatglm3", "chatglm4", "minicpm", "exaone3", "granite", "gigachat", "megrez");

  /** Copies the list. */
  public LlamaOptions {
    workerJvmOptions = List.copyOf(workerJvmOptions);
  }

  /** Parses the source's options; throws {@link IllegalArgumentException} naming a bad one. */
  public static LlamaOptions parse(ModelSource source) {
    EngineOptions o = new EngineOptions("llama", List.copyOf(new TreeSet<>(KEYS)), Map.of(),
        source.options());
    String mode = o.string("mode", "worker");
    if (!mode.equals("worker") && !mode.equals("in-process")) {
      throw new IllegalArgumentException("option mode must be worker or in-process, got '" + mode
          + "'");
    }
    int cores = Runtime.getRuntime().availableProcessors();
    int context = o.integer("context-size", 64, 1 << 20, 2048);
    int threads = o.integer("threads", 1, 512, Math.min(4, cores));
    int parallel = o.integer("parallel", 1, 256, 1);
    if (context / parallel < 64) {
      throw new IllegalArgumentException("context-size " + context + " shared by " + parallel
          + " parallel sequences leaves " + context / parallel + " tokens each; give each at"
          + " least 64");
    }
    long seed = o.wholeNumber("seed", 0, Integer.MAX_VALUE, -1);
    boolean embedding = o.bool("embedding", false);
    String pooling = o.string("pooling", "last").toLowerCase(Locale.ROOT);
    switch (pooling) {
      case "last", "cls", "none" -> { }
      case "mean" -> throw new IllegalArgumentException("pooling mean is refused: the bundled"
          + " llama.cpp aborts the process on it; use last, cls or none");
      default -> throw new IllegalArgumentException("option pooling must be last, cls or none,"
          + " got '" + pooling + "'");
    }
    if (o.has("pooling") && !embedding) {
      throw new IllegalArgumentException("option pooling needs embedding=true");
    }
    int batch = o.integer("batch-size", 1, 1 << 16, -1);
    List<String> jvm = new ArrayList<>();
    String opts = o.get("worker-jvm-options");
    if (opts != null && !opts.isBlank()) {
      for (String part : opts.trim().split("\\s+")) {
        if (!part.startsWith("-")) {
          throw new IllegalArgumentException("worker-jvm-options takes JVM options (each"
              + " starting with '-'), got '" + part + "'");
        }
        jvm.add(part);
      }
    }
    int start = o.integer("worker-start-seconds", 1, 3600, 120);
    int gpuLayers = o.integer("gpu-layers", 0, 4096, 0);
    String template = o.string("chat-template", "").strip();
    if (!template.isEmpty() && !CHAT_TEMPLATES.contains(template)) {
      throw o.invalid("chat-template", "expected one of llama.cpp's built-in templates "
          + new TreeSet<>(CHAT_TEMPLATES) + ", got '" + template + "'");
    }
    if (!template.isEmpty() && embedding) {
      throw o.invalid("chat-template", "an embedding model (embedding=true) has no chat");
    }
    return new LlamaOptions(mode.equals("in-process"), context, threads, parallel, seed,
        embedding, pooling, batch, jvm, start, gpuLayers, template);
  }

  /** The context tokens of one sequence. */
  public int contextPerSequence() {
    return contextSize / parallel;
  }

  /** Encodes the options as strings, to pass them to a worker. */
  public Map<String, String> toMap() {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put("mode", inProcess ? "in-process" : "worker");
    m.put("context-size", Integer.toString(contextSize));
    m.put("threads", Integer.toString(threads));
    m.put("parallel", Integer.toString(parallel));
    if (seed >= 0) {
      m.put("seed", Long.toString(seed));
    }
    m.put("embedding", Boolean.toString(embedding));
    if (embedding) {
      m.put("pooling", pooling);
    }
    if (batchSize > 0) {
      m.put("batch-size", Integer.toString(batchSize));
    }
    if (gpuLayers > 0) {
      m.put("gpu-layers", Integer.toString(gpuLayers));
    }
    if (!chatTemplate.isEmpty()) {
      m.put("chat-template", chatTemplate);
    }
    return m;
  }
}
