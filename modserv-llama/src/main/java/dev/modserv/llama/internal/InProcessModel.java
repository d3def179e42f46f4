package dev.modserv.llama.internal;

import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.spi.GenerationHandle;
import dev.modserv.spi.GenerationSink;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.RunGate;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A llama model in this JVM. Closing it cannot free its memory and leaves a native thread that
 * keeps the JVM alive (a limit of the binding, see docs/llama.md): for applications that never
 * unload.
 */
public final class InProcessModel implements LoadedModel {
  private static final org.slf4j.Logger nativeLog =
      org.slf4j.LoggerFactory.getLogger("dev.modserv.llama.native");
  private static boolean logsRouted;

  private final Engine engine;
  private final ModelMetadata metadata;
  private final RunGate gate = new RunGate();
  private final long memoryBytes;

  /** Reads the file's header (failing at once on a broken file), then loads the model. */
  public InProcessModel(Path file, LlamaOptions options) throws java.io.IOException {
    GgufHeader header = GgufHeader.read(file);
    routeNativeLogs();
    this.engine = Engine.load(file, options);
    this.metadata = Metadata.of(options, header, engine.dimensions(), "in-process");
    this.memoryBytes = header.memoryBytes(options.contextSize());
  }

  /** The file plus the KV cache at the configured context (see {@link GgufHeader}). */
  @Override
  public long memoryBytes() {
    return memoryBytes;
  }

  private static synchronized void routeNativeLogs() {
    if (!logsRouted) {
      logsRouted = true;
      Engine.privateNativeFolder();
      de.kherud.llama.LlamaModel.setLogger(de.kherud.llama.args.LogFormat.TEXT, (level, message) -> {
        String line = message.strip();
        if (line.isEmpty()) {
          return;
        }
        switch (level) {
          case ERROR -> nativeLog.error(line);
          case WARN -> nativeLog.warn(line);
          default -> nativeLog.debug(line);
        }
      });
    }
  }

  @Override
  public ModelMetadata metadata() {
    return metadata;
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs) {
    if (!engine.options().embedding()) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT,
          "this llama model generates text; load it with embedding=true to embed");
    }
    metadata.requireAccepts(inputs, outputs);
    Tensor text = Objects.requireNonNull(inputs.get(Capability.EMBEDDING_INPUT));
    gate.enter();
    try {
      return Metadata.outputs(engine.embed(text.strings()), engine.dimensions(), outputs);
    } finally {
      gate.exit();
    }
  }

  /**
   * Starts a generation; {@link #close()} waits for it to end (the binding's close hangs a thread
   * that is still generating).
   */
  @Override
  public GenerationHandle generate(GenerationRequest request, GenerationSink sink) {
    gate.enter();
    java.util.concurrent.atomic.AtomicBoolean left = new java.util.concurrent.atomic.AtomicBoolean();
    Runnable exit = () -> {
      if (left.compareAndSet(false, true)) {
        gate.exit();
      }
    };
    try {
      return engine.generate(request, new GenerationSink() {
        @Override
        public void prompt(int promptTokens) {
          sink.prompt(promptTokens);
        }

        @Override
        public void token(String text, int tokens) {
          sink.token(text, tokens);
        }

        @Override
        public void complete(dev.modserv.api.FinishReason reason, dev.modserv.api.Usage usage) {
          exit.run();
          sink.complete(reason, usage);
        }

        @Override
        public void fail(Throwable error) {
          exit.run();
          sink.fail(error);
        }
      });
    } catch (RuntimeException | Error e) {
      exit.run();
      throw e;
    }
  }

  @Override
  public int generationSlots() {
    return engine.options().parallel();
  }

  @Override
  public void close() {
    if (gate.closeAndAwait()) {
      engine.close();
    }
  }
}
