package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.api.ErrorCode;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.http.internal.ErrorStatus;
import dev.modserv.testkit.FakeBackend;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The adapter on an ephemeral port, called with the JDK's HttpClient, over the fake engine. */
class HttpAdapterTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir static Path tmp;
  static Path root;
  static ModelServer server;
  static HttpAdapter http;
  static Path socket;

  @BeforeAll
  static void start() throws Exception {
    server = ModelServer.builder().backend(FakeBackend.create()).discoverBackends(false).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    root = Files.createDirectories(tmp.resolve("models"));
    socket = tmp.resolve("modserv.sock");
    http = HttpAdapter.builder(server).port(0).maxBodyBytes(4096).management(root)
        .unixSocket(socket).corsOrigins("https://app.example").requireModel("iris").build();
    http.start();
  }

  @AfterAll
  static void stop() {
    http.close();
    server.close();
  }

  static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return CLIENT.send(b.timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpRequest.Builder req(HttpAdapter a, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port() + path));
  }

  static HttpResponse<String> get(String path) throws Exception {
    return send(req(http, path).GET());
  }

  static HttpResponse<String> post(String path, String body) throws Exception {
    return send(req(http, path).POST(HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json"));
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  @Test
  void predictRowsOfASingleInputModel() throws Exception {
    var r = post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4],[0.5,0,0,-1]]}");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode b = json(r);
    assertThat(b.get("model").asText()).isEqualTo("iris");
    assertThat(b.get("version").asLong()).isEqualTo(1);
    assertThat(b.get("outputs").toString()).isEqualTo("[[2.0,4.0,6.0,8.0],[1.0,0.0,0.0,-2.0]]");
    assertThat(b.get("n_samples").asInt()).isEqualTo(2);
    assertThat(b.get("latency_us").asLong()).isGreaterThanOrEqualTo(0);
    assertThat(b.get("done").asBoolean()).isTrue();
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
        v -> assertThat(v).startsWith("application/json"));
  }

  @Test
  void predictNamedInputsAndASingleRowGainsTheBatchDimension() throws Exception {
    var r = post("/api/predict", "{\"model\":\"iris\",\"version\":1,\"inputs\":{\"x\":[1,1,1,1]}}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(json(r).get("outputs").toString()).isEqualTo("[[2.0,2.0,2.0,2.0]]");
    assertThat(json(r).get("n_samples").asInt()).isEqualTo(1);
  }

  @Test
  void badRequestsNameTheBadField() throws Exception {
    var wrongType = post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,\"a\",4]]}");
    assertThat(wrongType.statusCode()).isEqualTo(400);
    assertThat(json(wrongType).get("error").asText()).startsWith("inputs[0][2]: mixed element kinds");
    var ragged = post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4],[1,2]]}");
    assertThat(ragged.statusCode()).isEqualTo(400);
    assertThat(json(ragged).get("error").asText()).contains("inputs[1]").contains("ragged");
    var model = post("/api/predict", "{\"model\":7,\"inputs\":[[1,2,3,4]]}");
    assertThat(json(model).get("error").asText()).startsWith("model: expected a model name");
    var malformed = post("/api/predict", "{\"model\":\"iris\",");
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(json(malformed).get("error").asText()).startsWith("malformed JSON");
    var shape = post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3]]}");
    assertThat(shape.statusCode()).isEqualTo(400); // INVALID_INPUT from the server
    var unknownInput = post("/api/predict", "{\"model\":\"iris\",\"inputs\":{\"z\":[[1,2,3,4]]}}");
    assertThat(json(unknownInput).get("error").asText()).startsWith("inputs.z: model 'iris' has no input");
  }

  @Test
  void unknownModelAndVersionAre404() throws Exception {
    var model = post("/api/predict", "{\"model\":\"nope\",\"inputs\":[[1,2,3,4]]}");
    assertThat(model.statusCode()).isEqualTo(404);
    assertThat(json(model).get("error").asText()).contains("nope");
    var version = post("/api/predict", "{\"model\":\"iris\",\"version\":9,\"inputs\":[[1,2,3,4]]}");
    assertThat(version.statusCode()).isEqualTo(404);
  }

  @Test
  void batchPredictAnswersEachRequest() throws Exception {
    var r = post("/api/batch-predict", "{\"requests\":[{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]},"
        + "{\"model\":\"nope\",\"inputs\":[[1,2,3,4]]},{\"model\":\"iris\",\"inputs\":[[true]]}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode results = json(r).get("results");
    assertThat(results).hasSize(3);
    assertThat(results.get(0).get("outputs").toString()).isEqualTo("[[2.0,4.0,6.0,8.0]]");
    assertThat(results.get(1).get("status").asInt()).isEqualTo(404);
    assertThat(results.get(1).get("code").asText()).isEqualTo("MODEL_NOT_FOUND");
    assertThat(results.get(2).get("status").asInt()).isEqualTo(400);
    assertThat(results.get(2).get("error").asText()).startsWith("requests[2].inputs: expected FP32");
  }

  @Test
  void modelsHealthReadyMetrics() throws Exception {
    JsonNode models = json(get("/api/models")).get("models");
    assertThat(models.get(0).get("name").asText()).isEqualTo("iris");
    JsonNode v1 = models.get(0).get("versions").get(0);
    assertThat(v1.get("state").asText()).isEqualTo("READY");
    assertThat(v1.get("inputs").get(0).get("shape").toString()).isEqualTo("[-1,4]");
    assertThat(json(get("/api/health")).get("status").asText()).isEqualTo("ok");
    assertThat(json(get("/api/health")).get("version").asText()).isNotBlank().isNotEqualTo("unknown");
    assertThat(get("/health").body()).isEqualTo("{\"status\":\"healthy\"}");
    assertThat(get("/ready").statusCode()).isEqualTo(200);
    post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}");
    var metrics = get("/metrics");
    assertThat(metrics.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
    assertThat(metrics.body()).contains("modserv_http_requests_seconds_count{")
        .contains("route=\"/api/predict\"");
    assertThat(get("/nowhere").statusCode()).isEqualTo(404);
    assertThat(post("/health", "{}").statusCode()).isEqualTo(405);
  }

  @Test
  void readinessWaitsForRequiredModels() throws Exception {
    try (HttpAdapter a = HttpAdapter.builder(server).port(0).requireModel("later").build()) {
      a.start();
      var r = send(req(a, "/ready").GET());
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(r.body()).get("waiting").get(0).asText()).isEqualTo("later");
      assertThat(send(req(a, "/v2/health/ready").GET()).body()).isEqualTo("{\"ready\":false}");
    }
  }

  @Test
  void everyErrorCodeHasItsStatus() {
    Map<ErrorCode, Integer> expected = Map.ofEntries(
        Map.entry(ErrorCode.MODEL_NOT_FOUND, 404), Map.entry(ErrorCode.VERSION_NOT_FOUND, 404),
        Map.entry(ErrorCode.MODEL_NOT_READY, 503), Map.entry(ErrorCode.INVALID_INPUT, 400),
        Map.entry(ErrorCode.QUEUE_FULL, 503), Map.entry(ErrorCode.TIMEOUT, 504),
        Map.entry(ErrorCode.SHUTTING_DOWN, 503), Map.entry(ErrorCode.LOAD_FAILED, 422),
        Map.entry(ErrorCode.UNAUTHORIZED, 401), Map.entry(ErrorCode.PAYLOAD_TOO_LARGE, 413),
        Map.entry(ErrorCode.BACKEND_ERROR, 500), Map.entry(ErrorCode.INSUFFICIENT_MEMORY, 507));
    for (ErrorCode c : ErrorCode.values()) {
      assertThat(ErrorStatus.of(c)).as(c.name()).isEqualTo(expected.get(c));
    }
  }

  @Test
  void aResponseCacheHitIsMarkedInTheNativeTimings() throws Exception {
    server.registry().configure("cached", ModelConfig.builder().responseCache(true).build());
    server.registry().load("cached", 1, Path.of("cached.fake")).join();
    String body = "{\"model\":\"cached\",\"inputs\":[[1,2,3,4]]}";
    JsonNode first = json(post("/api/predict", body));
    JsonNode second = json(post("/api/predict", body));
    assertThat(first.has("cached")).isFalse();
    assertThat(second.get("cached").asBoolean()).isTrue();
    assertThat(second.get("outputs")).isEqualTo(first.get("outputs"));
    assertThat(post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}").body())
        .doesNotContain("cached");
  }

  @Test
  void queueFullIs503WithRetryAfter() throws Exception {
    try (ModelServer slow = ModelServer.builder().discoverBackends(false)
        .backend(FakeBackend.builder().cost(Duration.ofMillis(300)).build()).build();
        HttpAdapter a = HttpAdapter.builder(slow).port(0).build()) {
      slow.registry().configure("slow", ModelConfig.builder().warmup(false).batching(
          BatchingPolicy.builder().maxBatchSize(1).maxQueueSize(1).build()).build());
      slow.registry().load("slow", 1, Path.of("slow.fake")).join();
      a.start();
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<CompletableFuture<HttpResponse<String>>>();
      for (int i = 0; i < 6; i++) {
        calls.add(CLIENT.sendAsync(req(a, "/api/predict").POST(HttpRequest.BodyPublishers.ofString(
            "{\"model\":\"slow\",\"inputs\":[[1,2,3,4]]}")).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      var full = calls.stream().map(CompletableFuture::join).filter(r -> r.statusCode() == 503)
          .toList();
      assertThat(full).isNotEmpty();
      assertThat(full.get(0).headers().firstValue("Retry-After").orElseThrow()).matches("[1-9][0-9]*");
      assertThat(JSON.readTree(full.get(0).body()).get("error").asText()).isNotBlank();
    }
  }

  @Test
  void apiKeyGuardsEverythingButHealth() throws Exception {
    try (HttpAdapter a = HttpAdapter.builder(server).port(0).apiKey("s3cret").build()) {
      a.start();
      String body = "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}";
      var none = send(req(a, "/api/predict").POST(HttpRequest.BodyPublishers.ofString(body)));
      assertThat(none.statusCode()).isEqualTo(401);
      assertThat(none.body()).doesNotContain("s3cret");
      var wrong = send(req(a, "/api/models").header("Authorization", "Bearer s3cres").GET());
      assertThat(wrong.statusCode()).isEqualTo(401);
      var right = send(req(a, "/api/predict").header("Authorization", "Bearer s3cret")
          .POST(HttpRequest.BodyPublishers.ofString(body)));
      assertThat(right.statusCode()).isEqualTo(200);
      assertThat(send(req(a, "/health").GET()).statusCode()).isEqualTo(200);
      assertThat(send(req(a, "/ready").GET()).statusCode()).isEqualTo(200);
      assertThat(send(req(a, "/v2/health/live").GET()).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void bodyLimitWithContentLengthAndChunked() throws Exception {
    String big = "{\"model\":\"iris\",\"inputs\":[[" + "1,".repeat(3000) + "1]]}";
    var sized = post("/api/predict", big);
    assertThat(sized.statusCode()).isEqualTo(413);
    assertThat(json(sized).get("error").asText()).contains("4096");
    var chunked = send(req(http, "/api/predict").POST(HttpRequest.BodyPublishers.ofInputStream(
        () -> new ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8)))));
    assertThat(chunked.statusCode()).isEqualTo(413);
    assertThat(json(chunked).get("error").asText()).contains("4096");
  }

  @Test
  void requestIdIsEchoedOrMade() throws Exception {
    var echoed = send(req(http, "/health").header("X-Request-Id", "abc-123").GET());
    assertThat(echoed.headers().firstValue("X-Request-Id")).hasValue("abc-123");
    var made = get("/health");
    assertThat(made.headers().firstValue("X-Request-Id").orElseThrow()).hasSize(36);
  }

  @Test
  void corsForAllowedOriginsOnly() throws Exception {
    var pre = send(req(http, "/api/predict").method("OPTIONS", HttpRequest.BodyPublishers.noBody())
        .header("Origin", "https://app.example").header("Access-Control-Request-Method", "POST"));
    assertThat(pre.statusCode()).isEqualTo(204);
    assertThat(pre.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://app.example");
    assertThat(pre.headers().firstValue("Access-Control-Allow-Methods").orElseThrow()).contains("POST");
    var other = send(req(http, "/health").header("Origin", "https://evil.example").GET());
    assertThat(other.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
  }

  @Test
  void unixDomainSocketServesTheSameRoutes() throws Exception {
    String body = "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}";
    String request = "POST /api/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body;
    StringBuilder answer = new StringBuilder();
    try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
      ByteBuffer buf = ByteBuffer.allocate(8192);
      while (ch.read(buf) >= 0) {
        buf.flip();
        answer.append(StandardCharsets.UTF_8.decode(buf));
        buf.clear();
      }
    }
    assertThat(answer.toString()).startsWith("HTTP/1.1 200").contains("[[2.0,4.0,6.0,8.0]]");
  }

  @Test
  void closeDrainsARequestInFlight() throws Exception {
    try (ModelServer slow = ModelServer.builder().discoverBackends(false)
        .backend(FakeBackend.builder().cost(Duration.ofMillis(400)).build()).build()) {
      slow.registry().configure("slow", ModelConfig.builder().warmup(false).build());
      slow.registry().load("slow", 1, Path.of("slow.fake")).join();
      HttpAdapter a = HttpAdapter.builder(slow).port(0).gracePeriod(Duration.ofSeconds(5)).build();
      a.start();
      var inFlight = CLIENT.sendAsync(req(a, "/api/predict").POST(HttpRequest.BodyPublishers
          .ofString("{\"model\":\"slow\",\"inputs\":[[1,2,3,4]]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      Thread.sleep(150);
      a.close();
      var r = inFlight.get();
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("[[2.0,4.0,6.0,8.0]]");
    }
  }
}
