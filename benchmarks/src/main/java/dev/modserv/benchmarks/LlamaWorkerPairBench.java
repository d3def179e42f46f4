package dev.modserv.benchmarks;

import dev.modserv.api.ChatMessage;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationStream;
import dev.modserv.core.ModelServer;
import dev.modserv.llama.LlamaBackend;
import dev.modserv.spi.ModelSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Two llama workers in one process, each behind its own {@link ModelServer}, generating the same
 * 64 tokens in alternation: what each worker spends per request, and the ratio of their rates.
 * With {@code copies} the second worker loads a byte-for-byte copy of the first one's file, with
 * {@code same} the same file. llama.cpp maps a model's weights from the page cache, so two copies
 * decode from different physical pages, which on a small machine's caches is enough to make one
 * worker several percent slower than the other for the whole of a run; on the same file both read
 * the same pages. {@link LlmServerBench} compares the server's worker with one in its own process,
 * so it loads the file the server serves.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *     dev.modserv.benchmarks.LlamaWorkerPairBench copies|same [rounds=60] [runs=3]
 * </pre>
 */
public final class LlamaWorkerPairBench {
  private static final int WARMUPS = 200;

  private LlamaWorkerPairBench() {}

  public static void main(String[] args) throws Exception {
    boolean copies = switch (args.length > 0 ? args[0] : "copies") {
      case "copies" -> true;
      case "same" -> false;
      default -> throw new IllegalArgumentException("first argument: copies or same");
    };
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    GenerationRequest request = GenerationRequest.builder("bench")
        .messages(List.of(ChatMessage.user(LlamaBenchmark.PROMPT))).maxTokens(64)
        .temperature(0).seed(1).build();
    for (int run = 0; run < runs; run++) {
      Path first = LlamaBenchmark.writeModel();
      Path second = copies ? Files.copy(first, first.resolveSibling("copy.gguf")) : first;
      second.toFile().deleteOnExit();
      ModelServer a = server(first);
      ModelServer b = server(second);
      try {
        ProcessHandle workerA = worker(null);
        ProcessHandle workerB = worker(workerA);
        for (int i = 0; i < WARMUPS; i++) {
          generate(a, request);
          generate(b, request);
        }
        long cpuA = cpu(workerA);
        long cpuB = cpu(workerB);
        long wallA = 0;
        long wallB = 0;
        for (int r = 0; r < rounds; r++) {
          // The side that goes first alternates.
          boolean aFirst = r % 2 == 0;
          long x = generate(aFirst ? a : b, request);
          long y = generate(aFirst ? b : a, request);
          wallA += aFirst ? x : y;
          wallB += aFirst ? y : x;
        }
        cpuA = cpu(workerA) - cpuA;
        cpuB = cpu(workerB) - cpuB;
        System.out.printf(Locale.ROOT, "%s, run %d: worker A %.1f ms CPU and %.1f ms wall per"
                + " request, worker B %.1f and %.1f; A's rate / B's %.1f%%%n",
            copies ? "two copies" : "one file", run + 1, cpuA / 1e6 / rounds,
            wallA / 1e6 / rounds, cpuB / 1e6 / rounds, wallB / 1e6 / rounds,
            100.0 * wallB / wallA);
      } finally {
        a.close();
        b.close();
      }
    }
    System.exit(0);
  }

  private static ModelServer server(Path file) {
    ModelServer s = ModelServer.builder().backend(new LlamaBackend()).discoverBackends(false)
        .build();
    s.registry().load("bench", 1, new ModelSource(file, Map.of("context-size", "2048",
        "threads", "1", "parallel", "4"))).join();
    return s;
  }

  /** The newest worker process of this JVM that is not {@code other}. */
  private static ProcessHandle worker(@Nullable ProcessHandle other) {
    return ProcessHandle.current().children()
        .filter(p -> other == null || p.pid() != other.pid()).filter(ProcessHandle::isAlive)
        .reduce((x, y) -> y.pid() > x.pid() ? y : x).orElseThrow();
  }

  private static long generate(ModelServer server, GenerationRequest request) {
    long start = System.nanoTime();
    try (GenerationStream s = server.generate(request)) {
      s.iterator().forEachRemaining(c -> { });
    }
    return System.nanoTime() - start;
  }

  private static long cpu(ProcessHandle p) {
    return p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }
}
