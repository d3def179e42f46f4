package dev.modserv.benchmarks;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.core.ModelServer;
import dev.modserv.llama.LlamaBackend;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.TinyLlama;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * modserv-llama through {@code ModelServer.complete} (the model in a worker process) against the
 * binding called directly in this JVM, same generated model (384 wide, 6 layers, random
 * weights, written at setup), same settings (context 2048, 2 threads, 1 sequence, greedy, seed
 * 1), one caller, ms per generation of {@code tokens} tokens. End of sequence cannot be sampled
 * from this model, so every generation runs to its limit on both sides.
 *
 * <ul>
 *   <li>{@code tokens = 1}: the time to the first token (prompt evaluation plus one step);
 *       served minus direct is what the worker and the server add to it;
 *   <li>{@code tokens = 128}: decode speed; tokens per second is {@code 127 / (t128 - t1)}.
 * </ul>
 *
 * <p>The served side also counts the prompt's and the completion's tokens with the tokenizer
 * (for usage); the direct side does not.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Threads(1)
public class LlamaBenchmark {
  static final String PROMPT = "hello world, serve the model and the token";

  static Path writeModel() throws IOException {
    Path dir = Files.createTempDirectory("modserv-llama-bench-");
    dir.toFile().deleteOnExit();
    Path file = TinyLlama.builder().width(384).layers(6).heads(6).context(2048).build()
        .write(dir.resolve("bench.gguf"));
    file.toFile().deleteOnExit();
    return file;
  }

  /** The binding in this JVM. */
  @State(Scope.Benchmark)
  public static class Direct {
    @Param({"1", "128"})
    int tokens;
    LlamaModel model;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
      if (System.getProperty("de.kherud.llama.tmpdir") == null) {
        System.setProperty("de.kherud.llama.tmpdir",
            Files.createTempDirectory("modserv-llama-native-").toString());
      }
      model = new LlamaModel(new ModelParameters().setModel(writeModel().toString())
          .setCtxSize(2048).setThreads(2).setParallel(1));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      // close() frees nothing and a native thread stays: JMH's fork ends the JVM.
      model.close();
    }
  }

  /** The same model through ModelServer and a worker process. */
  @State(Scope.Benchmark)
  public static class Served {
    @Param({"1", "128"})
    int tokens;
    ModelServer server;
    GenerationRequest request;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
      server = ModelServer.builder().backend(new LlamaBackend()).discoverBackends(false).build();
      server.registry().load("bench", 1, new ModelSource(writeModel(), Map.of(
          "context-size", "2048", "threads", "2", "parallel", "1"))).join();
      request = GenerationRequest.builder("bench").prompt(PROMPT).maxTokens(tokens)
          .temperature(0).seed(1).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      server.close();
    }
  }

  @Benchmark
  public int direct(Direct s) {
    int n = 0;
    InferenceParameters p = new InferenceParameters(PROMPT).setNPredict(s.tokens)
        .setTemperature(0).setSeed(1);
    for (LlamaOutput o : s.model.generate(p)) {
      n += o.text.length();
    }
    return n;
  }

  @Benchmark
  public int served(Served s) {
    GenerationResult r = s.server.complete(s.request);
    if (r.finishReason() != FinishReason.LENGTH) {
      throw new IllegalStateException("expected length, got " + r.finishReason());
    }
    return r.text().length();
  }
}
