package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Versions and durations from clients are checked at the edge: 400 naming the field, no wrap. */
class ClientNumbersTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String THIRTY_DIGITS = "123456789012345678901234567890";
  /** Versions no route takes: each is 400 naming the field. */
  static final List<String> BAD_NUMBERS = List.of("0", "-1", "1.5", "9223372036854775808",
      THIRTY_DIGITS, "18446744073709551617");

  @TempDir static Path tmp;
  static ModelServer server;
  static HttpAdapter http;

  @BeforeAll
  static void start() throws Exception {
    server = ModelServer.builder().backend(FakeBackend.create()).discoverBackends(false).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    Path root = Files.createDirectories(tmp.resolve("models"));
    Files.createDirectories(root.resolve("m/1"));
    Files.writeString(root.resolve("m/1/model.fake"), "");
    http = HttpAdapter.builder(server).port(0).management(root).build();
    http.start();
  }

  @AfterAll
  static void stop() {
    http.close();
    server.close();
  }

  static HttpResponse<String> send(String method, String path, String body) throws Exception {
    return DialectsTest.send(http, method, path, body);
  }

  static void assertRefused(HttpResponse<String> r, String field) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(JSON.readTree(r.body()).get("error").asText()).as(r.body())
        .startsWith(field + ": expected a version number from 1 to 9223372036854775807");
  }

  @Test
  void managementLoadTakesVersionsUpToLongMaxAndRefusesTheRest() throws Exception {
    for (String v : BAD_NUMBERS) {
      assertRefused(send("POST", "/models",
          "{\"name\":\"m\",\"path\":\"m/1/model.fake\",\"version\":" + v + "}"), "version");
      assertRefused(send("POST", "/models",
          "{\"name\":\"m\",\"path\":\"m/1/model.fake\",\"version\":\"" + v + "\"}"), "version");
    }
    assertRefused(send("POST", "/models",
        "{\"name\":\"m\",\"path\":\"m/1/model.fake\",\"version\":\"x\"}"), "version");
    assertThat(server.registry().versions("m")).isEmpty();

    var max = send("POST", "/models",
        "{\"name\":\"m\",\"path\":\"m/1/model.fake\",\"version\":9223372036854775807}");
    assertThat(max.statusCode()).as(max.body()).isEqualTo(201);
    assertThat(JSON.readTree(max.body()).get("version").asLong()).isEqualTo(Long.MAX_VALUE);
    // The next version would wrap: refused, naming the field to give.
    var next = send("POST", "/models", "{\"name\":\"m\",\"path\":\"m/1/model.fake\"}");
    assertThat(next.statusCode()).as(next.body()).isEqualTo(400);
    assertThat(JSON.readTree(next.body()).get("error").asText()).startsWith("version: ");
    assertThat(server.registry().versions("m")).hasSize(1);

    for (String v : List.of("0", "-1", THIRTY_DIGITS, "x")) {
      assertRefused(send("DELETE", "/models/m/versions/" + v, null), "version");
    }
    assertThat(send("DELETE", "/models/m/versions/7", null).statusCode()).isEqualTo(404);
    var deleted = send("DELETE", "/models/m/versions/9223372036854775807", null);
    assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
  }

  @Test
  void versionPathsAndFieldsThatMayBeLabels() throws Exception {
    for (String v : List.of("0", THIRTY_DIGITS, "9223372036854775808")) {
      assertRefused(send("GET", "/v2/models/iris/versions/" + v, null), "version");
      assertRefused(send("POST", "/api/predict",
          "{\"model\":\"iris\",\"version\":" + v + ",\"inputs\":[[1,2,3,4]]}"), "version");
      assertRefused(send("POST", "/api/predict",
          "{\"model\":\"iris\",\"version\":\"" + v + "\",\"inputs\":[[1,2,3,4]]}"), "version");
      assertRefused(send("POST", "/v2/repository/models/m/load",
          "{\"parameters\":{\"version\":" + v + "}}"), "parameters.version");
    }
    // Negative numbers are neither versions nor labels.
    assertRefused(send("GET", "/v2/models/iris/versions/-1", null), "version");
    assertRefused(send("POST", "/api/predict",
        "{\"model\":\"iris\",\"version\":-1,\"inputs\":[[1,2,3,4]]}"), "version");
    assertRefused(send("POST", "/v2/repository/models/m/load",
        "{\"parameters\":{\"version\":-1}}"), "parameters.version");
    // Well-formed but unknown: 404.
    assertThat(send("GET", "/v2/models/iris/versions/7", null).statusCode()).isEqualTo(404);
    assertThat(send("GET", "/v2/models/iris/versions/9223372036854775807", null).statusCode())
        .isEqualTo(404);
    assertThat(send("GET", "/v2/models/iris/versions/stable", null).statusCode()).isEqualTo(404);
    assertThat(send("POST", "/api/predict",
        "{\"model\":\"iris\",\"version\":1,\"inputs\":[[1,2,3,4]]}").statusCode()).isEqualTo(200);
  }

  @Test
  void ollamaKeepAliveIsClampedOrRefusedNeverWrapped() throws Exception {
    for (String given : List.of("1e300", "\"5124095h34m33.7s\"", "\"3000000h\"")) {
      send("POST", "/api/embed",
          "{\"model\":\"iris\",\"input\":\"hi\",\"keep_alive\":" + given + "}");
      assertThat(server.registry().config("iris").keepAlive()).as(given)
          .isEqualTo(Duration.ofDays(3650));
    }
    send("POST", "/api/embed", "{\"model\":\"iris\",\"input\":\"hi\",\"keep_alive\":\"5m\"}");
    assertThat(server.registry().config("iris").keepAlive()).isEqualTo(Duration.ofMinutes(5));
    send("POST", "/api/embed", "{\"model\":\"iris\",\"input\":\"hi\",\"keep_alive\":-1}");
    assertThat(server.registry().config("iris").keepAlive()).isNegative();
    for (String given : List.of("\"NaN\"", "\"Infinity\"", "\"1e300\"")) {
      var r = send("POST", "/api/embed",
          "{\"model\":\"iris\",\"input\":\"hi\",\"keep_alive\":" + given + "}");
      assertThat(r.statusCode()).as(given).isEqualTo(400);
      assertThat(JSON.readTree(r.body()).get("error").asText())
          .startsWith("keep_alive: expected a duration");
      assertThat(server.registry().config("iris").keepAlive()).isNegative();
    }
  }
}
