package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /metrics} with {@code Accept: application/json}. */
class MetricsJsonTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  static ModelServer server;
  static HttpAdapter http;

  @BeforeAll
  static void start() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    server = ModelServer.builder().backend(FakeBackend.create()).discoverBackends(false)
        .meterRegistry(registry).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    server.registry().load("other", 1, Path.of("other.fake")).join();
    http = HttpAdapter.builder(server).port(0).meterRegistry(registry).build();
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

  static HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path));
  }

  static HttpResponse<String> predict(String body) throws Exception {
    return send(req("/api/predict").POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  @Test
  void jsonSummaryForTheServerAndEachModel() throws Exception {
    ByteBuffer direct = ByteBuffer.allocateDirect(1 << 20); // makes the direct pool non-empty
    for (int i = 0; i < 3; i++) {
      assertThat(predict("{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}").statusCode()).isEqualTo(200);
    }
    assertThat(predict("{\"model\":\"iris\",\"inputs\":[[1,2,3]]}").statusCode()).isEqualTo(400);
    assertThat(predict("{\"model\":\"nope\",\"inputs\":[[1,2,3,4]]}").statusCode()).isEqualTo(404);

    var r = send(req("/metrics").header("Accept", "application/json").GET());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/json");
    JsonNode b = JSON.readTree(r.body());

    JsonNode s = b.get("server");
    assertThat(s.get("requestCount").asLong()).isEqualTo(5); // the HTTP requests before this one
    assertThat(s.get("errorCount").asLong()).isEqualTo(2);
    assertThat(s.get("errorRate").asDouble()).isEqualTo(0.4);
    assertThat(s.get("averageInferenceTimeMs").asDouble()).isGreaterThan(0);
    assertThat(s.get("uptime").asDouble()).isGreaterThan(0);
    JsonNode mem = s.get("memoryUsage");
    Runtime rt = Runtime.getRuntime();
    assertThat(mem.get("heapTotal").asLong()).isPositive().isLessThanOrEqualTo(rt.maxMemory());
    assertThat(mem.get("heapUsed").asLong()).isPositive()
        .isLessThanOrEqualTo(mem.get("heapTotal").asLong());
    assertThat(mem.get("external").asLong()).isGreaterThanOrEqualTo(direct.capacity());
    if (Files.isReadable(Path.of("/proc/self/status"))) {
      assertThat(mem.get("rss").asLong()).isGreaterThan(mem.get("heapUsed").asLong() / 4)
          .isGreaterThan(1 << 20);
    } else {
      assertThat(mem.get("rss").asLong()).isEqualTo(-1);
    }

    JsonNode iris = b.get("models").get("iris");
    assertThat(iris.get("requestCount").asLong()).isEqualTo(4); // the 404 never reached iris
    assertThat(iris.get("errorCount").asLong()).isEqualTo(1);
    assertThat(iris.get("errorRate").asDouble()).isEqualTo(0.25);
    assertThat(iris.get("averageInferenceTimeMs").asDouble()).isGreaterThan(0);
    assertThat(iris.get("uptime").asDouble()).isGreaterThanOrEqualTo(0)
        .isLessThanOrEqualTo(s.get("uptime").asDouble());
    assertThat(iris.has("memoryUsage")).isFalse();
    JsonNode other = b.get("models").get("other");
    assertThat(other.get("requestCount").asLong()).isZero();
    assertThat(other.get("errorRate").asDouble()).isZero();
    assertThat(other.get("averageInferenceTimeMs").asDouble()).isZero();
    assertThat(b.get("models").has("nope")).isFalse();

    var text = send(req("/metrics").GET());
    assertThat(text.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
    assertThat(text.body()).contains("modserv_requests_total{");
  }
}
