package dev.modserv.llama;

import dev.modserv.llama.internal.GgufHeader;
import dev.modserv.llama.internal.InProcessModel;
import dev.modserv.llama.internal.LlamaOptions;
import dev.modserv.llama.internal.WorkerModel;
import dev.modserv.spi.Backend;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;

/**
 * The llama.cpp engine ({@code de.kherud:llama}): loads {@code .gguf} files. Each model runs in a
 * child worker JVM by default (option {@code mode=worker}), so that unloading frees its memory, a
 * native abort fails only that model's requests, and the application's JVM can exit; {@code
 * mode=in-process} runs it in this JVM, for applications that never unload (closing such a model
 * leaks it). Options ({@code docs/llama.md}): {@code mode}, {@code context-size}, {@code threads},
 * {@code parallel}, {@code seed}, {@code embedding}, {@code pooling}, {@code batch-size}, {@code
 * worker-jvm-options}, {@code worker-start-seconds}, {@code gpu-layers}, {@code chat-template}.
 */
public final class LlamaBackend implements Backend {
  /** The engine's name. */
  public static final String NAME = "llama";

  /** Creates the engine; nothing native starts until a model loads. */
  public LlamaBackend() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean supports(ModelSource source) {
    return isGguf(source);
  }

  static boolean isGguf(ModelSource source) {
    if (!source.fileName().endsWith(".gguf") || !Files.isRegularFile(source.location())) {
      return false;
    }
    try (InputStream in = Files.newInputStream(source.location())) {
      byte[] magic = in.readNBytes(4);
      return magic.length == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U'
          && magic[3] == 'F';
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public LoadedModel load(ModelSource source) throws IOException {
    LlamaOptions options = LlamaOptions.parse(source);
    if (!Files.isRegularFile(source.location())) {
      throw new IllegalArgumentException("not a GGUF file: " + source.location());
    }
    return options.inProcess() ? new InProcessModel(source.location(), options)
        : new WorkerModel(source.location(), options);
  }

  /**
   * The file plus its KV cache at the configured context, from the GGUF header; -1 when the header
   * or the options cannot be read (loading then says why).
   */
  @Override
  public long memoryBytes(ModelSource source) {
    try {
      return GgufHeader.read(source.location())
          .memoryBytes(LlamaOptions.parse(source).contextSize());
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * The resident memory of a worker process beyond its model's weights, KV cache and compute
   * buffer: the worker JVM and llama.cpp's own state, measured with the generated models
   * ({@code docs/node-fit.md}).
   */
  static final long WORKER_OVERHEAD_BYTES = 88L << 20;

  /**
   * Weights (tensor types and shapes), KV cache at the configured context capped by {@code
   * maxContextTokens}, compute buffer (one micro-batch of logits), plus the worker process, from
   * the GGUF header; -1 when the header or the options cannot be read.
   */
  @Override
  public long nodeMemoryBytes(ModelSource source, int maxContextTokens) {
    try {
      GgufHeader h = GgufHeader.read(source.location());
      long context = LlamaOptions.parse(source).contextSize();
      if (maxContextTokens > 0) {
        context = Math.min(context, maxContextTokens);
      }
      return nodeMemoryBytes(h.weightBytes() + h.computeBytes(context), h.kvCacheBytes(context));
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Weights and cache as they are (llama.cpp maps the file), plus the worker process. */
  @Override
  public long nodeMemoryBytes(long weightBytes, long contextCacheBytes) {
    return weightBytes + contextCacheBytes + WORKER_OVERHEAD_BYTES;
  }

  /** A model's memory is about its file plus its context cache. */
  @Override
  public double memoryFactor() {
    return 1.3;
  }
}
