package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelServerListener;
import dev.modserv.testkit.FakeBackend;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.MDC;

/**
 * The node fit report, the JSON access log with the request id in the MDC, and models registered
 * but not loaded in the model listings and OIP metadata.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeFitAndLogsTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir static Path tmp;
  static ModelServer server;
  static HttpAdapter http;
  static long available;
  static final Map<String, String> requestIdAtLoad = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() throws Exception {
    server = ModelServer.builder().backend(FakeBackend.create()).discoverBackends(false)
        .listener(new ModelServerListener() {
          @Override
          public void loadStarted(String model, long version) {
            String id = MDC.get("request_id");
            requestIdAtLoad.put(model, id == null ? "none" : id);
          }
        }).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    available = JSON.readTree(getOk("/api/v1/system", 0).body()).get("system")
        .get("available_memory_bytes").asLong();
    // Registered, not loaded, each with a declared memory need against what is available now.
    register("tiny", 1L << 20);
    register("half", (long) (available * 0.70));
    register("most", (long) (available * 0.85));
    register("huge", available * 5);
    Path root = Files.createDirectories(tmp.resolve("models"));
    http = HttpAdapter.builder(server).port(0).management(root).build();
    http.start();
  }

  static void register(String name, long bytes) {
    server.registry().configure(name, ModelConfig.builder().memoryBytes(bytes).build());
    server.registry().register(name, 1, Path.of(name + ".fake"));
  }

  @AfterAll
  static void stop() {
    if (http != null) {
      http.close();
    }
    server.close();
  }

  static HttpResponse<String> getOk(String path, int port) throws Exception {
    if (port == 0) {
      // Before the adapter starts: a throwaway one for the system figures.
      try (HttpAdapter a = HttpAdapter.builder(server).port(0).build()) {
        a.start();
        return getOk(path, a.port());
      }
    }
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(String path) throws Exception {
    return getOk(path, http.port());
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  @Test
  void systemDescribesTheNode() throws Exception {
    var r = get("/api/v1/system");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode b = json(r);
    assertThat(b.get("node").get("name").asText()).isNotBlank();
    assertThat(b.get("node").get("os").asText()).isEqualTo(System.getProperty("os.name"));
    JsonNode s = b.get("system");
    assertThat(s.get("cpu_cores").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(s.get("total_memory_bytes").asLong()).isGreaterThan(0);
    assertThat(s.get("available_memory_bytes").asLong()).isBetween(1L,
        s.get("total_memory_bytes").asLong());
    if (Files.isReadable(Path.of("/proc/meminfo"))) {
      assertThat(s.get("memory_source").asText()).isIn("proc_meminfo", "cgroup");
    }
    assertThat(s.get("gpus").isArray()).isTrue();
    if (!Files.isDirectory(Path.of("/proc/driver/nvidia/gpus"))) {
      assertThat(s.get("gpus")).isEmpty();
    }
  }

  /** The level the documented thresholds give for a row's own figures. */
  static String level(JsonNode row) {
    double u = (double) row.get("memory_required_bytes").asLong()
        / row.get("memory_available_bytes").asLong();
    return u <= 0.5 ? "perfect" : u <= 0.75 ? "good" : u <= 0.9 ? "marginal" : "too_tight";
  }

  @Test
  void modelsAreRatedAgainstAvailableMemory() throws Exception {
    JsonNode b = json(get("/api/v1/models?sort=fit"));
    assertThat(b.get("node").get("name").isTextual()).isTrue();
    assertThat(b.get("system").get("available_memory_bytes").asLong()).isGreaterThan(0);
    assertThat(b.get("total_models").asInt()).isEqualTo(5);
    assertThat(b.get("returned_models").asInt()).isEqualTo(5);
    assertThat(b.get("filters").toString())
        .isEqualTo("{\"limit\":null,\"min_fit\":null,\"sort\":\"fit\",\"use_case\":null,"
            + "\"memory_bytes\":null,\"max_context\":null}");
    List<String> names = new ArrayList<>();
    for (JsonNode m : b.get("models")) {
      names.add(m.get("name").asText());
      if (m.get("name").asText().equals("iris")) {
        // The fake engine reports no memory: no estimate, no level.
        assertThat(m.get("fit").asText()).isEqualTo("unknown");
        assertThat(m.get("loaded").asBoolean()).isTrue();
        assertThat(m.get("state").asText()).isEqualTo("READY");
      } else {
        assertThat(m.get("memory_estimate").asText()).isEqualTo("declared");
        assertThat(m.get("loaded").asBoolean()).isFalse();
        assertThat(m.get("state").asText()).isEqualTo("UNLOADED");
        assertThat(m.get("fit").asText()).isEqualTo(level(m));
      }
    }
    // best fit first; with memory this steady, tiny is perfect, half good, most marginal
    assertThat(names).containsExactly("tiny", "half", "most", "huge", "iris");
    JsonNode tiny = b.get("models").get(0);
    assertThat(tiny.get("fit").asText()).isEqualTo("perfect");
    assertThat(tiny.get("memory_required_bytes").asLong()).isEqualTo(1L << 20);
    assertThat(b.get("models").get(3).get("fit").asText()).isEqualTo("too_tight");
    // The default order, by score: the model that uses the node best first (half at 0.70 of
    // the memory, then most at 0.85), the unknown one last.
    List<String> byScore = new ArrayList<>();
    for (JsonNode m : json(get("/api/v1/models")).get("models")) {
      byScore.add(m.get("name").asText());
    }
    assertThat(byScore).containsExactly("half", "most", "tiny", "huge", "iris");
  }

  @Test
  void filtersSortAndLimit() throws Exception {
    JsonNode good = json(get("/api/v1/models?min_fit=good&sort=name"));
    assertThat(good.get("total_models").asInt()).isEqualTo(5);
    assertThat(good.get("filters").get("min_fit").asText()).isEqualTo("good");
    List<String> names = new ArrayList<>();
    for (JsonNode m : good.get("models")) {
      assertThat(m.get("fit").asText()).isIn("perfect", "good");
      names.add(m.get("name").asText());
    }
    assertThat(names).contains("tiny").doesNotContain("huge", "iris").isSorted();
    JsonNode memory = json(get("/api/v1/models?sort=memory&limit=2"));
    assertThat(memory.get("returned_models").asInt()).isEqualTo(2);
    assertThat(memory.get("models").get(0).get("name").asText()).isEqualTo("huge");
    assertThat(memory.get("models").get(1).get("name").asText()).isEqualTo("most");
    JsonNode top = json(get("/api/v1/models/top"));
    assertThat(top.get("filters").get("limit").asInt()).isEqualTo(5);
    // By score, the default: the model that uses the node best (half, at 0.70 of its memory).
    assertThat(top.get("models").get(0).get("name").asText()).isEqualTo("half");
    JsonNode one = json(get("/api/v1/models/top?limit=1"));
    assertThat(one.get("returned_models").asInt()).isEqualTo(1);
    JsonNode named = json(get("/api/v1/models/huge"));
    assertThat(named.get("total_models").asInt()).isEqualTo(1);
    assertThat(named.get("models").get(0).get("fit").asText()).isEqualTo("too_tight");
    assertThat(get("/api/v1/models/nope").statusCode()).isEqualTo(404);
  }

  @Test
  void badQueryValuesAre400() throws Exception {
    var fit = get("/api/v1/models?min_fit=great");
    assertThat(fit.statusCode()).isEqualTo(400);
    assertThat(fit.body()).isEqualTo("{\"error\":\"invalid min_fit value 'great': use"
        + " perfect|good|marginal|too_tight\"}");
    var limit = get("/api/v1/models/top?limit=0");
    assertThat(limit.statusCode()).isEqualTo(400);
    assertThat(json(limit).get("error").asText()).startsWith("invalid limit value:");
    assertThat(get("/api/v1/models?limit=x").statusCode()).isEqualTo(400);
    // A malformed escape the JDK client will not send: a raw request.
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", http.port())) {
      socket.getOutputStream().write(("GET /api/v1/models?limit=%zz HTTP/1.1\r\nHost: x\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 400");
    }
    var sort = get("/api/v1/models?sort=size");
    assertThat(sort.statusCode()).isEqualTo(400);
    assertThat(json(sort).get("error").asText())
        .isEqualTo("invalid sort value 'size': use score|fit|memory|name");
  }

  @Test
  void registeredModelsShowTheirState() throws Exception {
    JsonNode api = json(get("/api/models"));
    JsonNode tiny = null;
    for (JsonNode m : api.get("models")) {
      if (m.get("name").asText().equals("tiny")) {
        tiny = m.get("versions").get(0);
      }
    }
    assertThat(tiny).isNotNull();
    assertThat(tiny.get("state").asText()).isEqualTo("UNLOADED");
    assertThat(tiny.has("inputs")).isFalse();
    assertThat(tiny.has("loaded_at")).isFalse();
    assertThat(json(get("/models")).get("models").toString())
        .contains("{\"name\":\"tiny\",\"version\":1,\"state\":\"UNLOADED\",\"warmupComplete\":false}");
    assertThat(json(get("/models/tiny")).get("versions").get(0).get("state").asText())
        .isEqualTo("UNLOADED");
    JsonNode md = json(get("/v2/models/tiny"));
    assertThat(md.toString()).isEqualTo("{\"name\":\"tiny\",\"versions\":[],\"platform\":"
        + "\"unknown\",\"inputs\":[],\"outputs\":[],\"properties\":{\"state\":\"UNLOADED\","
        + "\"version\":\"1\"}}");
    var ready = get("/v2/models/tiny/ready");
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.body()).isEqualTo("{\"name\":\"tiny\",\"ready\":false}");
  }

  @Test
  @Order(Integer.MAX_VALUE - 1)
  void registeredModelLoadsOnItsFirstRequestOverHttp() throws Exception {
    server.registry().register("lazy", 1, Path.of("lazy.fake"));
    var r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
            + "/api/predict")).POST(HttpRequest.BodyPublishers.ofString(
                "{\"model\":\"lazy\",\"inputs\":{\"x\":[[1,2,3,4]]}}"))
        .header("X-Request-Id", "lazy-1").timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(json(r).get("outputs").toString()).isEqualTo("[[2.0,4.0,6.0,8.0]]");
    JsonNode md = json(get("/v2/models/lazy"));
    assertThat(md.get("inputs").toString())
        .isEqualTo("[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,4]}]");
  }

  @Test
  @Order(Integer.MAX_VALUE)
  void accessLogIsOneJsonLinePerRequestAndTheRequestIdIsInTheMdc() throws Exception {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    Path root = Files.createDirectories(tmp.resolve("models"));
    Files.writeString(root.resolve("logged.fake"), "");
    HttpResponse<String> load;
    HttpResponse<String> missing;
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      load = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
              + "/models")).POST(HttpRequest.BodyPublishers.ofString(
                  "{\"name\":\"logged\",\"path\":\"logged.fake\"}"))
          .header("X-Request-Id", "load-42").timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      missing = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
              + "/api/nothing?q=1")).header("X-Request-Id", "nope-\"1\"")
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    } finally {
      System.setErr(err);
    }
    assertThat(load.statusCode()).as(load.body()).isEqualTo(201);
    assertThat(missing.statusCode()).isEqualTo(404);
    // The load ran while the adapter handled the request: its log lines carry the request id.
    assertThat(requestIdAtLoad.get("logged")).isEqualTo("load-42");
    List<JsonNode> lines = new ArrayList<>();
    for (String line : captured.toString(StandardCharsets.UTF_8).split("\n")) {
      int at = line.indexOf("dev.modserv.http.access - ");
      if (at >= 0) {
        lines.add(JSON.readTree(line.substring(at + "dev.modserv.http.access - ".length())));
      }
    }
    assertThat(lines).hasSize(2);
    JsonNode first = lines.get(0);
    assertThat(first.get("request_id").asText()).isEqualTo("load-42");
    assertThat(first.get("method").asText()).isEqualTo("POST");
    assertThat(first.get("path").asText()).isEqualTo("/models");
    assertThat(first.get("route").asText()).isEqualTo("/models");
    assertThat(first.get("status").asInt()).isEqualTo(201);
    assertThat(first.get("bytes").asLong()).isEqualTo(load.body().getBytes(StandardCharsets.UTF_8)
        .length);
    assertThat(first.get("request_bytes").asLong()).isEqualTo(38);
    assertThat(first.get("duration_us").asLong()).isGreaterThan(0);
    assertThat(first.get("remote").asText()).isEqualTo("127.0.0.1");
    assertThat(first.get("time").asText()).isNotEmpty();
    JsonNode second = lines.get(1);
    assertThat(second.get("request_id").asText()).isEqualTo("nope-\"1\"");
    assertThat(second.get("path").asText()).isEqualTo("/api/nothing");
    assertThat(second.get("status").asInt()).isEqualTo(404);
    assertThat(MDC.get("request_id")).isNull();
  }
}
