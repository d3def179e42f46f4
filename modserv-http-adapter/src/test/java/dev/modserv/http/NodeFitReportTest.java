package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.onnx.OnnxBackend;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.SlowOnnxModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node fit report on a model root of generated ONNX models none of which is loaded, with a
 * catalog: every model reported with its engine's estimate, the fit overrides, sorting, every
 * filter, and the 400s naming the bad value.
 */
class NodeFitReportTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir static Path root;
  static ModelServer server;
  static final List<FitCandidate> CATALOG = List.of(
      new FitCandidate("llama-3.1-8b-instruct", "llama", 8_030_261_248L, "Q4_K_M", 131_072,
          List.of("chat", "coding"), 4_920_733_888L, 32, 8, 128),
      new FitCandidate("all-minilm-l6-v2", "onnxruntime", 22_713_216, "F32", 256,
          List.of("embedding"), 90_405_214, 0, 0, 0));

  @BeforeAll
  static void start() throws Exception {
    // Small, larger, and a folder with two versions; none loaded.
    SlowOnnxModel.write(Files.createDirectories(root.resolve("small/1")).resolve("model.onnx"),
        64, 1);
    SlowOnnxModel.write(Files.createDirectories(root.resolve("wide/1")).resolve("model.onnx"),
        256, 1);
    SlowOnnxModel.write(Files.createDirectories(root.resolve("wide/2")).resolve("model.onnx"),
        1024, 2);
    Files.createDirectories(root.resolve(".hidden/1"));
    Files.createDirectories(root.resolve("no-versions/latest"));
    server = ModelServer.builder().backend(new OnnxBackend()).backend(FakeBackend.create())
        .discoverBackends(false).build();
    server.registry().configure("small", ModelConfig.builder()
        .useCases(List.of("classification")).build());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** Runs {@code test} against an adapter built with {@code options}, over the model root. */
  static void with(Consumer<HttpAdapter.Builder> options, Check test) throws Exception {
    HttpAdapter.Builder b = HttpAdapter.builder(server).port(0).management(root)
        .gracePeriod(Duration.ZERO).fitCatalog(CATALOG);
    options.accept(b);
    try (HttpAdapter http = b.build()) {
      http.start();
      test.run(http.port());
    }
  }

  interface Check {
    void run(int port) throws Exception;
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(int port, String path) throws Exception {
    HttpResponse<String> r = get(port, path);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  static JsonNode row(JsonNode report, String name) {
    for (JsonNode m : report.get("models")) {
      if (m.get("name").asText().equals(name)) {
        return m;
      }
    }
    throw new AssertionError(name + " not in " + report.get("models"));
  }

  static List<String> names(JsonNode report) {
    List<String> names = new ArrayList<>();
    report.get("models").forEach(m -> names.add(m.get("name").asText()));
    return names;
  }

  @Test
  void everyModelOfTheRootIsReportedUnloadedWithItsEstimateAndTheCatalogToo() throws Exception {
    with(b -> { }, port -> {
      JsonNode r = json(port, "/api/v1/models?sort=name");
      assertThat(names(r)).containsExactly("all-minilm-l6-v2", "llama-3.1-8b-instruct", "small",
          "wide");
      assertThat(r.get("total_models").asInt()).isEqualTo(4);
      assertThat(server.registry().models()).isEmpty();
      JsonNode wide = row(r, "wide");
      assertThat(wide.get("source").asText()).isEqualTo("repository");
      assertThat(wide.get("engine").asText()).isEqualTo("onnxruntime");
      assertThat(wide.get("state").asText()).isEqualTo("ON_DISK");
      assertThat(wide.get("loaded").asBoolean()).isFalse();
      assertThat(wide.get("versions").toString()).isEqualTo("[1,2]");
      assertThat(wide.get("memory_estimate").asText()).isEqualTo("estimated");
      assertThat(wide.get("use_cases").toString()).isEqualTo("[\"tensor\"]");
      assertThat(wide.get("run_mode").asText()).isEqualTo("cpu");
      // The newest version: its 1024 × 1024 FP32 initializer, plus the session and the runtime
      // (no ONNX model is loaded, so the runtime counts).
      long required = wide.get("memory_required_bytes").asLong();
      assertThat(wide.get("artifact_bytes").asLong())
          .isEqualTo(Files.size(root.resolve("wide/2/model.onnx")));
      assertThat(required).isBetween(4L * 1024 * 1024 + (24L << 20),
          4L * 1024 * 1024 + (24L << 20) + (16L << 20));
      JsonNode small = row(r, "small");
      assertThat(small.get("use_cases").toString()).isEqualTo("[\"classification\"]");
      assertThat(small.get("memory_required_bytes").asLong()).isLessThan(required);
      JsonNode llama = row(r, "llama-3.1-8b-instruct");
      assertThat(llama.get("source").asText()).isEqualTo("catalog");
      // No llama engine in this server: its published figures alone (weights + KV cache).
      assertThat(llama.get("memory_estimate").asText()).isEqualTo("published");
      assertThat(llama.get("memory_required_bytes").asLong())
          .isEqualTo(4_920_733_888L + 32L * 131_072 * 8 * 2 * 128 * 2);
      assertThat(llama.get("parameters").asLong()).isEqualTo(8_030_261_248L);
      assertThat(llama.get("quantization").asText()).isEqualTo("Q4_K_M");
      assertThat(llama.get("context_length").asLong()).isEqualTo(131_072);
      JsonNode minilm = row(r, "all-minilm-l6-v2");
      assertThat(minilm.get("memory_estimate").asText()).isEqualTo("estimated");
      assertThat(minilm.get("memory_required_bytes").asLong()).isGreaterThan(90_405_214L);
      for (JsonNode m : r.get("models")) {
        assertThat(m.get("fit").asText()).isIn("perfect", "good", "marginal", "too_tight");
        assertThat(m.get("score").asInt()).isBetween(0, 100);
      }
      JsonNode one = json(port, "/api/v1/models/wide");
      assertThat(one.get("total_models").asInt()).isEqualTo(1);
      assertThat(one.get("filters").get("name").asText()).isEqualTo("wide");
    });
  }

  @Test
  void fitLevelsFollowTheFitMemoryAcrossTheThresholds() throws Exception {
    long[] required = new long[1];
    with(b -> { }, port -> required[0] = row(json(port, "/api/v1/models/wide"), "wide")
        .get("memory_required_bytes").asLong());
    // u = required / memory: perfect <= 0.50 < good <= 0.75 < marginal <= 0.90 < too_tight
    double[] shares = {0.40, 0.50, 0.60, 0.75, 0.80, 0.90, 0.95, 2.0};
    String[] levels = {"perfect", "perfect", "good", "good", "marginal", "marginal", "too_tight",
        "too_tight"};
    int[] scores = {80, 100, 80, 50, 40, 20, 0, 0};
    for (int i = 0; i < shares.length; i++) {
      long memory = (long) Math.ceil(required[0] / shares[i]);
      int at = i;
      with(b -> b.fitMemory(memory), port -> {
        JsonNode r = json(port, "/api/v1/models/wide");
        assertThat(r.get("filters").get("memory_bytes").asLong()).isEqualTo(memory);
        JsonNode wide = r.get("models").get(0);
        assertThat(wide.get("memory_available_bytes").asLong()).isEqualTo(memory);
        assertThat(wide.get("fit").asText()).as("share %s", shares[at]).isEqualTo(levels[at]);
        assertThat(wide.get("score").asInt()).as("share %s", shares[at]).isEqualTo(scores[at]);
      });
    }
  }

  @Test
  void theMaxContextShrinksContextCachesAndIsEchoed() throws Exception {
    with(b -> b.fitMaxContext(8192), port -> {
      JsonNode r = json(port, "/api/v1/models/llama-3.1-8b-instruct");
      assertThat(r.get("filters").get("max_context").asInt()).isEqualTo(8192);
      assertThat(r.get("models").get(0).get("memory_required_bytes").asLong())
          .isEqualTo(4_920_733_888L + 32L * 8192 * 8 * 2 * 128 * 2);
    });
  }

  @Test
  void sortingAndEveryFilter() throws Exception {
    long memory = 1L << 30;
    with(b -> b.fitMemory(memory), port -> {
      JsonNode byMemory = json(port, "/api/v1/models?sort=memory");
      assertThat(names(byMemory)).containsExactly("llama-3.1-8b-instruct", "all-minilm-l6-v2",
          "wide", "small");
      JsonNode byScore = json(port, "/api/v1/models");
      assertThat(byScore.get("filters").get("sort").asText()).isEqualTo("score");
      List<Integer> scores = new ArrayList<>();
      byScore.get("models").forEach(m -> scores.add(m.get("score").asInt()));
      assertThat(scores).isSortedAccordingTo((a, b) -> b - a);
      JsonNode byFit = json(port, "/api/v1/models?sort=fit");
      assertThat(names(byFit).get(names(byFit).size() - 1)).isEqualTo("llama-3.1-8b-instruct");
      JsonNode chat = json(port, "/api/v1/models?use_case=chat");
      assertThat(chat.get("filters").get("use_case").asText()).isEqualTo("chat");
      assertThat(names(chat)).containsExactly("llama-3.1-8b-instruct");
      assertThat(chat.get("total_models").asInt()).isEqualTo(4);
      assertThat(names(json(port, "/api/v1/models?use_case=tensor&sort=name")))
          .containsExactly("wide");
      assertThat(names(json(port, "/api/v1/models?use_case=Embedding")))
          .containsExactly("all-minilm-l6-v2");
      assertThat(names(json(port, "/api/v1/models?use_case=reasoning")))
          .isEmpty();
      JsonNode good = json(port, "/api/v1/models?min_fit=perfect&sort=name");
      assertThat(names(good)).containsExactly("all-minilm-l6-v2", "small", "wide");
      assertThat(names(json(port, "/api/v1/models?limit=2&sort=name")))
          .containsExactly("all-minilm-l6-v2", "llama-3.1-8b-instruct");
      JsonNode top = json(port, "/api/v1/models/top?limit=1");
      assertThat(top.get("returned_models").asInt()).isEqualTo(1);
      assertThat(top.get("models").get(0).get("name").asText())
          .isEqualTo(byScore.get("models").get(0).get("name").asText());
    });
  }

  @Test
  void badValuesAre400NamingTheValue() throws Exception {
    with(b -> { }, port -> {
      String[][] cases = {
        {"/api/v1/models?use_case=poetry", "invalid use_case value 'poetry': use general|chat|"
            + "coding|reasoning|multimodal|embedding|classification|tensor"},
        {"/api/v1/models?sort=speed", "invalid sort value 'speed': use score|fit|memory|name"},
        {"/api/v1/models?min_fit=ok", "invalid min_fit value 'ok': use perfect|good|marginal|"
            + "too_tight"},
        {"/api/v1/models/top?limit=-3", "invalid limit value: '-3' is not a whole number from 1"
            + " to 100000"},
      };
      for (String[] c : cases) {
        HttpResponse<String> r = get(port, c[0]);
        assertThat(r.statusCode()).as(c[0]).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).get("error").asText()).isEqualTo(c[1]);
      }
      assertThat(get(port, "/api/v1/models/nothing-here").statusCode()).isEqualTo(404);
    });
  }

  @Test
  void theSystemListsEnginesAndWhetherTheyUseAGpu() throws Exception {
    with(b -> { }, port -> {
      JsonNode s = json(port, "/api/v1/system").get("system");
      assertThat(s.get("cpu_model").asText()).isNotBlank();
      assertThat(s.get("engines").toString()).contains(
          "{\"name\":\"onnxruntime\",\"uses_gpu\":false}");
      for (JsonNode gpu : s.get("gpus")) {
        assertThat(gpu.has("memory_total_bytes")).isTrue();
        assertThat(gpu.has("driver_version")).isTrue();
      }
    });
  }
}
