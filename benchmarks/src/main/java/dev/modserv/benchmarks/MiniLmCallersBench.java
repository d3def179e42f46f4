package dev.modserv.benchmarks;

import ai.onnxruntime.OrtSession;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelServer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The MiniLM line of issue 17, side by side in one JVM, rounds alternated so that a machine shared
 * with other work loads every setup alike: 32 closed-loop single-row callers of the int8
 * all-MiniLM-L6-v2 (16 tokens, one intra-op thread) through the server, batched up to 32 rows,
 * with the engine's instances (one per available processor) and with one; against one thread
 * calling the session directly with a batch of 16 and of 32 rows (the engine's best offline
 * batch, as {@link OnnxBenchmark} measures it). Prints rows/s per round, and per setup the median
 * and the median of each round's ratio to that round's best offline batch.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *   dev.modserv.benchmarks.MiniLmCallersBench [rounds] [seconds per setup]
 * </pre>
 */
public final class MiniLmCallersBench {
  private static final int CALLERS = 32;

  private MiniLmCallersBench() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    long millis = (long) ((args.length > 1 ? Double.parseDouble(args[1]) : 3) * 1000);
    ModelServer engineInstances = OnnxBenchmark.serve("minilm", 32, "engine", "1");
    ModelServer oneInstance = OnnxBenchmark.serve("minilm", 32, "1", "1");
    OrtSession raw = OnnxBenchmark.rawSession("minilm");
    InferenceRequest request = InferenceRequest.builder("minilm")
        .inputs(OnnxBenchmark.inputs("minilm", 1)).build();
    Map<String, Tensor> batch16 = OnnxBenchmark.inputs("minilm", 16);
    Map<String, Tensor> batch32 = OnnxBenchmark.inputs("minilm", 32);
    Map<String, List<Double>> results = new LinkedHashMap<>();
    String served = "served, instances " + Runtime.getRuntime().availableProcessors()
        + " (engine's)";
    try {
      for (int round = -1; round < rounds; round++) {   // round -1 warms every setup up
        record(results, round, served, callers(engineInstances, request, millis));
        record(results, round, "served, instances 1", callers(oneInstance, request, millis));
        record(results, round, "offline batch 16", offline(raw, batch16, 16, millis));
        record(results, round, "offline batch 32", offline(raw, batch32, 32, millis));
      }
    } finally {
      engineInstances.close();
      oneInstance.close();
      raw.close();
    }
    double bestOffline = Math.max(median(results.get("offline batch 16")),
        median(results.get("offline batch 32")));
    List<Double> offline16 = results.get("offline batch 16");
    List<Double> offline32 = results.get("offline batch 32");
    for (Map.Entry<String, List<Double>> e : results.entrySet()) {
      double m = median(e.getValue());
      // Each round's own ratio too: a round's setups ran seconds apart, under the same load.
      List<Double> ratios = new ArrayList<>();
      for (int r = 0; r < e.getValue().size(); r++) {
        ratios.add(e.getValue().get(r) / Math.max(offline16.get(r), offline32.get(r)));
      }
      System.out.printf(Locale.ROOT, "median\t%s\t%.0f rows/s\t%.1f%% of the best offline batch"
          + "\tmedian of the rounds' ratios %.1f%%%n", e.getKey(), m, 100 * m / bestOffline,
          100 * median(ratios));
    }
  }

  private static void record(Map<String, List<Double>> results, int round, String setup,
      double rowsPerSecond) {
    System.out.printf(Locale.ROOT, "round %d\t%s\t%.0f rows/s%n", round, setup, rowsPerSecond);
    if (round >= 0) {
      results.computeIfAbsent(setup, k -> new ArrayList<>()).add(rowsPerSecond);
    }
  }

  private static double callers(ModelServer server, InferenceRequest request, long millis)
      throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong rows = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < CALLERS; i++) {
      threads.add(Thread.ofPlatform().start(() -> {
        while (!stop.get()) {
          server.infer(request);
          rows.incrementAndGet();
        }
      }));
    }
    long start = System.nanoTime();
    Thread.sleep(millis);
    long counted = rows.get();
    long elapsed = System.nanoTime() - start;
    stop.set(true);
    for (Thread t : threads) {
      t.join();
    }
    return counted * 1e9 / elapsed;
  }

  private static double offline(OrtSession raw, Map<String, Tensor> in, int rows, long millis)
      throws Exception {
    long calls = 0;
    long start = System.nanoTime();
    long end = start + millis * 1_000_000;
    long now;
    do {
      OnnxBenchmark.rawRun(raw, in);
      calls++;
      now = System.nanoTime();
    } while (now < end);
    return calls * rows * 1e9 / (now - start);
  }

  private static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
