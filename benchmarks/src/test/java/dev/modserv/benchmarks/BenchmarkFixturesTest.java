package dev.modserv.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
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
    for (String method : List.of("infer", "direct")) {
      assertThat(list).contains("TensorFlowBenchmark_" + method + "_jmhTest");
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

  @Test
  void tensorFlowFixturesGiveTheSameAnswerServedAndDirect() throws Exception {
    TensorFlowBenchmark bench = new TensorFlowBenchmark();
    for (int batch : List.of(1, 32)) {
      TensorFlowBenchmark.Direct direct = new TensorFlowBenchmark.Direct();
      direct.batch = batch;
      direct.start();
      float[] expected;
      try {
        expected = bench.direct(direct);
        assertThat(bench.direct(direct)).containsExactly(expected);
      } finally {
        direct.stop();
      }
      assertThat(expected).hasSize(batch * 3);
      float[] x = TensorFlowBenchmark.features(batch);
      for (int r = 0; r < batch; r++) {
        float[] row = softmaxRow(Arrays.copyOfRange(x, r * 4, r * 4 + 4));
        for (int j = 0; j < 3; j++) {
          assertThat(expected[r * 3 + j]).as("row %d class %d", r, j)
              .isCloseTo(row[j], offset(1e-5f));
        }
      }
      TensorFlowBenchmark.Served s = new TensorFlowBenchmark.Served();
      s.batch = batch;
      s.start();
      try {
        for (int i = 0; i < 10; i++) {
          Tensor probs = bench.infer(s).requireOutput("probs");
          assertThat(probs.shape()).containsExactly(batch, 3);
          assertThat(probs.toFloatArray()).containsExactly(expected);
        }
      } finally {
        s.stop();
      }
    }
  }

  @Test
  void httpPredictBenchGetsTheAnswerFromEveryTarget() throws Exception {
    try (HttpPredictBench.Servers servers = new HttpPredictBench.Servers()) {
      Tensor expected = servers.modelServer.infer(dev.modserv.api.InferenceRequest.builder("mlp")
          .input("x", Tensor.of(new float[] {0.5f, -0.25f, 1.0f, 0.75f}, 1, 4)).build())
          .requireOutput("y");
      for (HttpPredictBench.Target t : HttpPredictBench.Target.values()) {
        try (HttpPredictBench.Conn conn = new HttpPredictBench.Conn(servers.address(t), t.path,
            t.body)) {
          for (int i = 0; i < 3; i++) { // keep-alive: the same connection answers again
            assertThat(conn.call(true)).as(t.name()).isEqualTo(200);
          }
          JsonNode body = HttpPredictBench.MAPPER.readTree(conn.lastBody());
          if (t.path.equals(HttpPredictBench.OIP_PATH)) {
            JsonNode output = body.get("outputs").get(0);
            assertThat(output.get("name").asText()).isEqualTo("y");
            assertThat(output.get("shape").toString()).isEqualTo("[1,3]");
            assertThat(floats(output.get("data"))).as(t.name())
                .containsExactly(expected.toFloatArray());
          } else if (t.server.startsWith("adapter")) { // the plain adapter and the traced one
            assertThat(body.get("n_samples").asInt()).isEqualTo(1);
            assertThat(floats(body.get("outputs").get(0))).as(t.name())
                .containsExactly(expected.toFloatArray());
          } else if (t.server.equals("bare+model")) { // the model run without the serving layer
            assertThat(body.get("outputs").size()).isEqualTo(1);
            assertThat(floats(body.get("outputs").get(0))).as(t.name())
                .containsExactly(expected.toFloatArray());
          } else {
            assertThat(body).isEqualTo(HttpPredictBench.MAPPER.readTree(HttpPredictBench.CONSTANT));
          }
        }
      }
      for (HttpPredictBench.ClientWait wait : HttpPredictBench.ClientWait.values()) {
        for (HttpPredictBench.Target t : List.of(HttpPredictBench.Target.ADAPTER_UDS,
            HttpPredictBench.Target.BARE_TCP)) {
          HttpPredictBench.Result r = HttpPredictBench.run(servers, t, 2, 0.1, 0.2, wait);
          assertThat(r.requests()).as(t + " " + wait).isPositive();
          assertThat(r.errors()).as(t + " " + wait).isZero();
          assertThat(r.p50Nanos()).as(t + " " + wait).isPositive()
              .isLessThanOrEqualTo(r.p99Nanos());
        }
      }
    }
  }

  @Test
  void httpPredictBenchJudgesTheAdapterAgainstTheBareHandlerOfTheSameRun() {
    Map<String, HttpPredictBench.Median> m = new LinkedHashMap<>();
    m.put("ADAPTER_TCP/16", new HttpPredictBench.Median(40_000, 300, 1_300));
    m.put("BARE_TCP/16", new HttpPredictBench.Median(50_000, 250, 600));
    m.put("ADAPTER_TCP/1", new HttpPredictBench.Median(9_000, 110, 200));
    m.put("BARE_TCP/1", new HttpPredictBench.Median(11_000, 85, 150));
    m.put("ADAPTER_UDS/1", new HttpPredictBench.Median(12_000, 80, 150));
    m.put("BARE_UDS/1", new HttpPredictBench.Median(17_000, 55, 100));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    HttpPredictBench.Derived.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), m);
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertThat(out).containsPattern("ADAPTER_TCP / BARE_TCP req/s at 16 connections: 80% +met")
        .containsPattern("ADAPTER_TCP p50 - BARE_TCP p50 at 1 connection: \\+25.0 us +MISSED")
        .containsPattern("ADAPTER_UDS p50 - BARE_UDS p50 at 1 connection: \\+25.0 us +MISSED")
        .containsPattern("ADAPTER socket-over-TCP p50 gain at 1 connection: 30.0 us \\(1.38x\\)"
            + " against bare 30.0 us \\(1.55x\\): 100% of bare's +met")
        .containsPattern("ADAPTER_TCP p99 / BARE_TCP p99 at 16 connections: 1300 / 600 us"
            + " = 2.17x +MISSED")
        .doesNotContain("OIP") // not measured, so not judged
        .doesNotContain("BARE_MODEL");

    m.put("BARE_MODEL_TCP/16", new HttpPredictBench.Median(32_000, 500, 1_000));
    m.put("BARE_MODEL_TCP/1", new HttpPredictBench.Median(10_000, 100, 180));
    bytes.reset();
    HttpPredictBench.Derived.printAgainstModel(new PrintStream(bytes, true, StandardCharsets.UTF_8),
        m, new int[] {1, 16});
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .contains("ADAPTER_TCP / BARE_MODEL_TCP at 1 connection: req/s 90%, p50 +10.0 us,"
            + " p99 1.11x")
        .contains("ADAPTER_TCP / BARE_MODEL_TCP at 16 connections: req/s 125%, p50 -200.0 us,"
            + " p99 1.30x")
        .doesNotContain("UDS"); // not measured for the model
  }

  @Test
  void httpCodecAllocationParsesTheBenchRequestAndWritesAnAnswer() throws Exception {
    Tensor parsed = HttpCodecAllocation.parse();
    assertThat(parsed.shape()).containsExactly(1, 4);
    assertThat(parsed.toFloatArray()).containsExactly(0.5f, -0.25f, 1.0f, 0.75f);
    JsonNode answer = HttpPredictBench.MAPPER.readTree(HttpCodecAllocation.answer());
    assertThat(answer.get("model").asText()).isEqualTo("mlp");
    assertThat(floats(answer.get("outputs").get(0))).hasSize(3);
  }

  /** A JSON array of numbers as floats. */
  private static float[] floats(JsonNode array) {
    float[] got = new float[array.size()];
    for (int j = 0; j < got.length; j++) {
      got[j] = (float) array.get(j).asDouble();
    }
    return got;
  }

  /** The softmax regression of {@link TensorFlowBenchmark} in plain Java. */
  private static float[] softmaxRow(float[] x) {
    double[] z = new double[3];
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < 3; j++) {
      z[j] = TensorFlowBenchmark.B[j];
      for (int i = 0; i < 4; i++) {
        z[j] += (double) x[i] * TensorFlowBenchmark.W[i][j];
      }
      max = Math.max(max, z[j]);
    }
    double total = 0;
    for (int j = 0; j < 3; j++) {
      z[j] = Math.exp(z[j] - max);
      total += z[j];
    }
    float[] out = new float[3];
    for (int j = 0; j < 3; j++) {
      out[j] = (float) (z[j] / total);
    }
    return out;
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
