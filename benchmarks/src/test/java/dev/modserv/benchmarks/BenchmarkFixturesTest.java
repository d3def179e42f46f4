package dev.modserv.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Keeps the benchmarks from rotting without running them: their fixtures set up, serve correct
 * answers and close, and JMH's annotation processor generated every benchmark.
 */
class BenchmarkFixturesTest {
  private static final float[] DOUBLED = {2, 4, 6, 8};

  @Test
  void jmhGeneratedEveryBenchmark() throws Exception {
    String list;
    try (InputStream in = getClass().getResourceAsStream("/META-INF/BenchmarkList")) {
      assertThat(in).as("META-INF/BenchmarkList, written by jmh-generator-annprocess").isNotNull();
      list = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    for (String method : List.of("callers001", "callers008", "callers032", "callers128")) {
      assertThat(list).contains("BatcherThroughputBenchmark_" + method + "_jmhTest");
    }
    for (String method : List.of("infer", "inferAsync", "direct")) {
      assertThat(list).contains("BatcherOverheadBenchmark_" + method + "_jmhTest");
    }
  }

  @Test
  void throughputFixtureServesConcurrentCallersInBothModes() throws Exception {
    BatcherThroughputBenchmark bench = new BatcherThroughputBenchmark();
    for (String mode : List.of("batched", "unbatched")) {
      BatcherThroughputBenchmark.Served s = new BatcherThroughputBenchmark.Served();
      s.mode = mode;
      s.start();
      ExecutorService callers = Executors.newFixedThreadPool(8);
      try {
        s.markIteration();
        List<Future<InferenceResult>> results = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
          results.add(callers.submit(() -> bench.callers008(s)));
        }
        for (Future<InferenceResult> result : results) {
          assertThat(y(result.get(30, TimeUnit.SECONDS))).containsExactly(DOUBLED);
        }
        long runs = s.model.runCalls();
        long rows = s.model.totalRows();
        assertThat(rows).as("64 calls + the warm-up row").isEqualTo(65);
        if (mode.equals("unbatched")) {
          assertThat(runs).isEqualTo(65);
        } else {
          assertThat(runs).isBetween(2L, 65L);
        }
      } finally {
        callers.shutdownNow();
        s.server.close();
      }
    }
  }

  @Test
  void overheadFixturesGiveTheSameAnswerServedAndDirect() throws Exception {
    BatcherOverheadBenchmark bench = new BatcherOverheadBenchmark();
    BatcherOverheadBenchmark.Direct direct = new BatcherOverheadBenchmark.Direct();
    direct.start();
    try {
      assertThat(get(bench.direct(direct)).toFloatArray()).containsExactly(DOUBLED);
    } finally {
      direct.stop();
    }
    BatcherOverheadBenchmark.Served s = new BatcherOverheadBenchmark.Served();
    s.start();
    try {
      for (int i = 0; i < 100; i++) {
        assertThat(y(bench.infer(s))).containsExactly(DOUBLED);
        assertThat(y(bench.inferAsync(s))).containsExactly(DOUBLED);
      }
    } finally {
      s.stop();
    }
  }

  private static float[] y(InferenceResult result) {
    return result.requireOutput("y").toFloatArray();
  }

  private static Tensor get(Map<String, Tensor> outputs) {
    Tensor y = outputs.get("y");
    assertThat(y).isNotNull();
    return y;
  }
}
