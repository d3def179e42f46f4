package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.http.FitCandidate;
import dev.modserv.http.HttpAdapter;
import dev.modserv.testkit.SlowOnnxModel;
import dev.modserv.testkit.TinyLlama;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node fit report of {@code modserv serve}: a repository of generated GGUF (three tensor
 * types), ONNX and TensorFlow models that no server loaded, the documented catalog, model.yaml's
 * use cases, and the {@code --fit-*} options.
 */
class NodeFitServeTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newHttpClient();
  static final Path DOCUMENTED_CATALOG = Path.of("..", "deploy", "fit-catalog.yaml");

  @TempDir Path tmp;

  static JsonNode get(int port, String path) throws Exception {
    HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + port + path)).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  static Map<String, JsonNode> byName(JsonNode report) {
    Map<String, JsonNode> rows = new HashMap<>();
    report.get("models").forEach(m -> rows.put(m.get("name").asText(), m));
    return rows;
  }

  /** A SavedModel folder as TensorFlow writes one: the graph, the variables and their index. */
  static Path savedModel(Path dir, int variableBytes) throws Exception {
    Files.createDirectories(dir.resolve("variables"));
    Files.write(dir.resolve("saved_model.pb"), new byte[4096]);
    Files.write(dir.resolve("variables/variables.data-00000-of-00001"),
        new byte[variableBytes]);
    Files.write(dir.resolve("variables/variables.index"), new byte[256]);
    return dir;
  }

  @Test
  void everyModelOfAnUnloadedRepositoryHasItsEnginesEstimate() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    long[] sizes = new long[3];
    String[] types = {"F32", "F16", "Q8_0"};
    for (int i = 0; i < types.length; i++) {
      Path file = TinyLlama.builder().width(256).layers(2).type(types[i]).build()
          .write(Files.createDirectories(repo.resolve("tiny-" + i + "/1")).resolve("m.gguf"));
      sizes[i] = Files.size(file);
    }
    TinyLlama.builder().width(64).layers(2).build()
        .write(Files.createDirectories(repo.resolve("chatty/1")).resolve("m.gguf"));
    Files.writeString(repo.resolve("chatty/model.yaml"), "use-cases: [chat, coding]\n"
        + "engine-options:\n  context-size: 4096\n");
    SlowOnnxModel.write(Files.createDirectories(repo.resolve("net/1")).resolve("model.onnx"),
        512, 1);
    savedModel(repo.resolve("graph/1/model.savedmodel"), 1 << 20);
    try (ModelServer server = ModelServer.builder().build();
        HttpAdapter http = HttpAdapter.builder(server).port(0).management(repo)
            .gracePeriod(Duration.ZERO)
            .fitCatalog(ModelYaml.readCatalog(DOCUMENTED_CATALOG)).build()) {
      http.start();
      assertThat(http.routes()).contains("GET /api/v1/system", "GET /api/v1/models",
          "GET /api/v1/models/top", "GET /api/v1/models/{name}");
      JsonNode report = get(http.port(), "/api/v1/models");
      assertThat(report.get("total_models").asInt()).isEqualTo(6 + 7);
      Map<String, JsonNode> rows = byName(report);
      for (String name : List.of("tiny-0", "tiny-1", "tiny-2", "chatty", "net", "graph")) {
        JsonNode m = rows.get(name);
        assertThat(m.get("loaded").asBoolean()).as(name).isFalse();
        assertThat(m.get("memory_estimate").asText()).as(name).isEqualTo("estimated");
        assertThat(m.get("memory_required_bytes").asLong()).as(name)
            .isGreaterThan(m.get("artifact_bytes").asLong());
        assertThat(m.get("fit").asText()).as(name).isNotEqualTo("unknown");
      }
      assertThat(server.registry().models()).isEmpty();
      assertThat(rows.get("net").get("engine").asText()).isEqualTo("onnxruntime");
      assertThat(rows.get("graph").get("engine").asText()).isEqualTo("tensorflow");
      assertThat(rows.get("tiny-0").get("engine").asText()).isEqualTo("llama");
      // Same shapes in three tensor types: the estimates differ by exactly the matrices' bytes in
      // each type (the norms stay FP32 in all three): 4, 2 and 34/32 bytes a weight.
      long matrices = 2L * 256 * TinyLlama.vocabulary().size()
          + 2 * (4L * 256 * 256 + 3L * 256 * 512);
      long f32 = rows.get("tiny-0").get("memory_required_bytes").asLong();
      long f16 = rows.get("tiny-1").get("memory_required_bytes").asLong();
      long q80 = rows.get("tiny-2").get("memory_required_bytes").asLong();
      assertThat(f32 - f16).isEqualTo(2 * matrices);
      assertThat(f16 - q80).isEqualTo(2 * matrices - matrices / 32 * 34);
      assertThat(sizes[0]).isGreaterThan(sizes[1]).isGreaterThan(sizes[2]);
      // The worker: its JVM and llama.cpp's state, on top of the weights and caches.
      assertThat(f32 - sizes[0]).isBetween(88L << 20, (88L << 20) + (8L << 20));
      // Not registered, so its model.yaml is not read here: the engine's use case.
      assertThat(rows.get("chatty").get("use_cases").toString()).isEqualTo("[\"chat\"]");
      assertThat(rows.get("net").get("use_cases").toString()).isEqualTo("[\"tensor\"]");
      // The documented catalog: the 70B model is too tight for any test machine.
      assertThat(rows.get("llama-3.1-70b-instruct-q4_k_m").get("source").asText())
          .isEqualTo("catalog");
      assertThat(rows.get("llama-3.1-70b-instruct-q4_k_m").get("memory_estimate").asText())
          .isEqualTo("estimated");
      JsonNode embedding = get(http.port(), "/api/v1/models?use_case=embedding");
      assertThat(embedding.get("models").get(0).get("name").asText())
          .isEqualTo("all-minilm-l6-v2");
      assertThat(embedding.get("returned_models").asInt()).isEqualTo(1);
    }
  }

  @Test
  void theDocumentedCatalogReadsAndBadCatalogsNameTheirProblems() throws Exception {
    List<FitCandidate> catalog = ModelYaml.readCatalog(DOCUMENTED_CATALOG);
    assertThat(catalog).hasSize(7);
    FitCandidate llama = catalog.get(0);
    assertThat(llama).isEqualTo(new FitCandidate("llama-3.1-8b-instruct-q4_k_m", "llama",
        8_030_000_000L, "Q4_K_M", 131_072, List.of("chat", "coding", "reasoning"),
        4_920_000_000L, 32, 8, 128));
    Path bad = tmp.resolve("bad.yaml");
    Files.writeString(bad, """
        models:
          - name: a
            engine: llama
            use-cases: [poetry]
            artifact-size: 1GB
          - name: b
            engine: llama
            colour: blue
          - engine: onnxruntime
            artifact-size: 1MB
          - name: c
            engine: llama
            parameters: 7B
        """);
    assertThatThrownBy(() -> ModelYaml.readCatalog(bad)).hasMessageContaining(
        "models[0]: a: unknown use case 'poetry'")
        .hasMessageContaining("models[1].colour: unknown key")
        .hasMessageContaining("models[2]: name and engine are required")
        .hasMessageContaining("models[3]: c: give its artifact size, or its parameters and a"
            + " known quantization");
    Files.writeString(bad, "- name: a\n");
    assertThatThrownBy(() -> ModelYaml.readCatalog(bad)).hasMessageContaining(
        "expected a mapping with one key, models");
    assertThatThrownBy(() -> ModelYaml.parse(bad, "use-cases: [chat, singing]\n"))
        .hasMessageContaining("use-cases: unknown use case 'singing'");
    assertThat(ModelYaml.parse(bad, "use-cases: embedding\n").config().useCases())
        .containsExactly("embedding");
  }

  @Test
  void theServerTakesTheFitOptionsAndEchoesThem() throws Exception {
    ServeCommand cmd = new ServeCommand(s -> { });
    ServeCommand.commandLine(cmd, Map.of()).parseArgs("--fit-catalog",
        DOCUMENTED_CATALOG.toString(), "--fit-memory", "64GiB", "--fit-max-context", "4096");
    ServeOptions.Fit fit = cmd.options(Map.of()).fit();
    assertThat(fit).isEqualTo(new ServeOptions.Fit(DOCUMENTED_CATALOG, 64L << 30, 4096));
    ServeCommand env = new ServeCommand(s -> { });
    ServeCommand.commandLine(env, Map.of("MODSERV_FIT_MEMORY", "1GiB")).parseArgs();
    assertThat(env.options(Map.of()).fit().memoryBytes()).isEqualTo(1L << 30);

    Path repo = Files.createDirectories(tmp.resolve("repo"));
    SlowOnnxModel.write(Files.createDirectories(repo.resolve("net/1")).resolve("model.onnx"), 64,
        1);
    Files.writeString(repo.resolve("net/model.yaml"), "use-cases: [classification]\n");
    ServeOptions o = cmd.options(Map.of());
    ServeOptions options = new ServeOptions(repo, "127.0.0.1", 0, null, null, Duration.ZERO,
        tmp.resolve("cache"), 64L << 20, -1, Duration.ZERO, null, -1, List.of(), 0, 64L << 20,
        true, null, List.of(), o.fit(), ServeOptions.DEFAULT_SELECTOR_SPIN, 0);
    try (StandaloneServer s = StandaloneServer.start(options)) {
      JsonNode report = get(s.port(), "/api/v1/models/llama-3.1-8b-instruct-q4_k_m");
      assertThat(report.get("filters").get("memory_bytes").asLong()).isEqualTo(64L << 30);
      assertThat(report.get("filters").get("max_context").asInt()).isEqualTo(4096);
      JsonNode llama = report.get("models").get(0);
      assertThat(llama.get("memory_available_bytes").asLong()).isEqualTo(64L << 30);
      // Published weights + KV cache at 4096 tokens + the worker, against 64 GiB: perfect.
      assertThat(llama.get("memory_required_bytes").asLong()).isEqualTo(4_920_000_000L
          + 32L * 4096 * 8 * 2 * 128 * 2 + (88L << 20));
      assertThat(llama.get("fit").asText()).isEqualTo("perfect");
      JsonNode net = byName(get(s.port(), "/api/v1/models")).get("net");
      assertThat(net.get("source").asText()).isEqualTo("registered");
      assertThat(net.get("loaded").asBoolean()).isTrue();
      assertThat(net.get("use_cases").toString()).isEqualTo("[\"classification\"]");
      assertThat(get(s.port(), "/api/v1/models?use_case=classification").get("models").get(0)
          .get("name").asText()).isEqualTo("net");
    }
  }
}
