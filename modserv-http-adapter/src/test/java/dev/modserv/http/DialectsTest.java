package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link HttpAdapter.Builder#dialects}: only the chosen dialects' routes are served. */
class DialectsTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).build();

  @TempDir static Path tmp;
  static ModelServer server;

  @BeforeAll
  static void start() {
    server = ModelServer.builder().backend(FakeBackend.create()).discoverBackends(false).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static HttpResponse<String> send(HttpAdapter http, String method, String path, String body)
      throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void onlyTheOpenInferenceProtocol() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("models"));
    try (HttpAdapter http = HttpAdapter.builder(server).port(0).management(root)
        .dialects(Dialect.OIP).build()) {
      http.start();
      assertThat(send(http, "GET", "/v2/models/iris", null).statusCode()).isEqualTo(200);
      var infer = send(http, "POST", "/v2/models/iris/infer", "{\"inputs\":[{\"name\":\"x\","
          + "\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}");
      assertThat(infer.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(infer.body()).get("outputs").get(0).get("data").toString())
          .isEqualTo("[2.0,4.0,6.0,8.0]");
      // The repository extension comes with the model root.
      assertThat(send(http, "POST", "/v2/repository/index", "{}").statusCode()).isEqualTo(200);
      // Operations are always served.
      assertThat(send(http, "GET", "/health", null).statusCode()).isEqualTo(200);
      assertThat(send(http, "GET", "/ready", null).statusCode()).isEqualTo(200);

      for (List<String> route : List.of(
          List.of("POST", "/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}"),
          List.of("GET", "/api/models", ""),
          List.of("POST", "/api/generate", "{\"model\":\"iris\",\"prompt\":\"hi\"}"),
          List.of("POST", "/predict", "{\"modelName\":\"iris\",\"inputs\":[[1,2,3,4]]}"),
          List.of("GET", "/v1/models", ""),
          List.of("POST", "/v1/chat/completions", "{\"model\":\"iris\"}"),
          List.of("GET", "/api/tags", ""),
          List.of("GET", "/", ""),
          List.of("GET", "/models", ""),
          List.of("POST", "/models", "{\"name\":\"a\",\"path\":\"a.fake\"}"),
          List.of("GET", "/api/v1/system", ""))) {
        var r = send(http, route.get(0), route.get(1), route.get(2).isEmpty() ? null : route.get(2));
        assertThat(r.statusCode()).as(route.toString()).isEqualTo(404);
        JsonNode error = JSON.readTree(r.body());
        assertThat(error.fieldNames()).toIterable().as(route.toString()).containsExactly("error");
        assertThat(error.get("error").asText()).startsWith("no route for " + route.get(0));
      }
    }
  }

  @Test
  void apiGenerateBelongsToTheDialectsServed() throws Exception {
    String prompt = "{\"model\":\"iris\",\"prompt\":\"hi\"}";
    String inputs = "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}";
    try (HttpAdapter http = HttpAdapter.builder(server).port(0).dialects(Dialect.NATIVE).build()) {
      http.start();
      assertThat(send(http, "POST", "/api/generate", inputs).statusCode()).isEqualTo(200);
      var r = send(http, "POST", "/api/generate", prompt);
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(JSON.readTree(r.body()).get("error").asText()).startsWith("inputs:");
    }
    try (HttpAdapter http = HttpAdapter.builder(server).port(0).dialects(Dialect.OLLAMA).build()) {
      http.start();
      var r = send(http, "POST", "/api/generate", prompt);
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(JSON.readTree(r.body()).get("error").asText())
          .startsWith("model: model 'iris' does not generate text");
      var predict = send(http, "POST", "/api/generate", inputs);
      assertThat(predict.statusCode()).isEqualTo(400);
      assertThat(JSON.readTree(predict.body()).get("error").asText()).startsWith("prompt:");
    }
  }

  @Test
  void dialectsAreChosenOnce() {
    HttpAdapter.Builder b = HttpAdapter.builder(server).dialects(Dialect.NATIVE);
    assertThatThrownBy(() -> b.dialects(Dialect.OIP)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> HttpAdapter.builder(server).dialects())
        .isInstanceOf(IllegalArgumentException.class);
  }
}
