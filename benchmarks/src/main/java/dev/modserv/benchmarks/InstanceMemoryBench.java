package dev.modserv.benchmarks;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.Tensor;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.spi.ModelSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What several engine instances cost in memory (issue 17): serves the int8 all-MiniLM-L6-v2 (one
 * intra-op thread) with {@code instances} engine calls at once and drives it with 64 closed-loop
 * callers of one 128-token row each (batches of up to {@code maxBatch} rows, 8 by default, so that
 * every instance runs a batch of the same size) for a few seconds, then prints the
 * process's resident memory after the load and its peak ({@code VmRSS}, {@code VmHWM}). Each
 * concurrent run holds its own activations, which ONNX Runtime's arena keeps once grown. Run it
 * once per figure, each in a fresh JVM, from the repository root:
 *
 * <pre>
 * for n in 1 2 4 8; do java --enable-native-access=ALL-UNNAMED -Xms256m -Xmx256m \
 *   -XX:+AlwaysPreTouch -cp benchmarks/target/benchmarks.jar \
 *   dev.modserv.benchmarks.InstanceMemoryBench $n [maxBatch]; done
 * </pre>
 */
public final class InstanceMemoryBench {
  private static final int TOKENS = 128;
  private static final int CALLERS = 64;
  private static final long SECONDS = 6;

  private InstanceMemoryBench() {}

  public static void main(String[] args) throws Exception {
    int instances = Integer.parseInt(args[0]);
    int maxBatch = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    long before = status("VmRSS");
    try (ModelServer server = ModelServer.builder().build()) {
      server.registry().configure("minilm", ModelConfig.builder().batching(BatchingPolicy
          .builder().maxBatchSize(maxBatch).instances(instances).build()).build());
      server.registry().load("minilm", 1, ModelSource.of(OnnxBenchmark.MINILM)
          .withOption("intra-op-threads", "1")).join();
      long loaded = status("VmRSS");
      InferenceRequest request = InferenceRequest.builder("minilm").inputs(row()).build();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong rows = new AtomicLong();
      List<Thread> callers = new ArrayList<>();
      for (int i = 0; i < CALLERS; i++) {
        callers.add(Thread.ofPlatform().start(() -> {
          while (!stop.get()) {
            server.infer(request);
            rows.incrementAndGet();
          }
        }));
      }
      Thread.sleep(SECONDS * 1000);
      stop.set(true);
      for (Thread t : callers) {
        t.join();
      }
      long after = status("VmRSS");
      long peak = status("VmHWM");
      System.out.printf(Locale.ROOT, "instances\t%d\tmax_batch\t%d\tloaded_mib\t%.1f"
          + "\tafter_load_mib\t%.1f\tpeak_mib\t%.1f\trows_per_s\t%.0f%n", instances, maxBatch,
          mib(loaded - before),
          mib(after - before), mib(peak - before), rows.get() / (double) SECONDS);
    }
  }

  private static java.util.Map<String, Tensor> row() {
    long[] ids = new long[TOKENS];
    long[] mask = new long[TOKENS];
    for (int t = 0; t < TOKENS; t++) {
      ids[t] = t == 0 ? 101 : t == TOKENS - 1 ? 102 : 1000 + 37 * t;
      mask[t] = 1;
    }
    return java.util.Map.of("input_ids", Tensor.of(ids, 1, TOKENS),
        "attention_mask", Tensor.of(mask, 1, TOKENS),
        "token_type_ids", Tensor.of(new long[TOKENS], 1, TOKENS));
  }

  private static double mib(long bytes) {
    return bytes / (1024.0 * 1024.0);
  }

  /** A {@code /proc/self/status} field in bytes. */
  private static long status(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IOException("no " + field + " in /proc/self/status");
  }
}
