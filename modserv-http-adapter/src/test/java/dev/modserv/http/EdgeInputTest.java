package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.http.internal.ClientText;
import dev.modserv.onnx.OnnxBackend;
import dev.modserv.testkit.FakeBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Names, shapes, duplicate inputs, batch items and numbers from clients, checked at the edge on a
 * real server (ONNX models and a fake-engine one, the management API on): 400 naming the field, or
 * 404 for a well-formed unknown name; never a 500; echoed text cut; log lines escaped.
 */
class EdgeInputTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path MODELS = Path.of("src/test/resources/models");
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).build();
  static final String THIRTY_DIGITS = "123456789012345678901234567890";

  @TempDir static Path tmp;
  static ModelServer server;
  static HttpAdapter http;

  @BeforeAll
  static void start() throws Exception {
    server = ModelServer.builder().backend(new OnnxBackend()).backend(FakeBackend.builder()
            .loadFailure(s -> s.location().toString().startsWith("broken"),
                () -> new IOException("truncated file")).build())
        .discoverBackends(false).build();
    server.registry().load("features", 1, MODELS.resolve("features.onnx")).join();
    server.registry().load("all", 1, MODELS.resolve("all.onnx")).join();
    server.registry().load("broken", 1, Path.of("broken.fake")).exceptionally(x -> null).join();
    Path root = Files.createDirectories(tmp.resolve("repo"));
    Files.writeString(Files.createDirectories(root.resolve("m/1")).resolve("m.fake"), "");
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

  /** The error message of any dialect's shape ({"error": "..."} or OpenAI's). */
  static String error(HttpResponse<String> r) throws Exception {
    JsonNode e = JSON.readTree(r.body()).get("error");
    return e.isObject() ? e.get("message").asText() : e.asText();
  }

  static void assertBadField(HttpResponse<String> r, String field) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(error(r)).as(r.body()).startsWith(field + ": ");
  }

  /** Every route that takes a model name, with {m} where the name goes and the field it is. */
  static List<String[]> nameRoutes(String m) {
    String q = JSON.valueToTree(m).toString();
    String p = HttpFuzzProperties.segment(m);
    return List.of(
        new String[] {"POST", "/api/predict", "{\"model\":" + q + ",\"inputs\":[[1,2]]}", "model"},
        new String[] {"POST", "/predict", "{\"modelName\":" + q + ",\"inputs\":[[1,2]]}",
            "modelName"},
        new String[] {"POST", "/batch-predict", "{\"modelName\":" + q + ",\"batch\":[]}",
            "modelName"},
        new String[] {"POST", "/api/generate", "{\"model\":" + q + ",\"inputs\":[[1,2]]}", "model"},
        new String[] {"GET", "/v2/models/" + p, null, "model"},
        new String[] {"GET", "/v2/models/" + p + "/ready", null, "model"},
        new String[] {"POST", "/v2/models/" + p + "/infer", "{\"inputs\":[{\"name\":\"features\","
            + "\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1,2]}]}", "model"},
        new String[] {"POST", "/v2/repository/models/" + p + "/load", "{}", "model"},
        new String[] {"POST", "/v2/repository/models/" + p + "/unload", "{}", "model"},
        new String[] {"POST", "/models", "{\"name\":" + q + ",\"path\":\"m/1/m.fake\"}", "name"},
        new String[] {"GET", "/models/" + p, null, "name"},
        new String[] {"DELETE", "/models/" + p, null, "name"},
        new String[] {"POST", "/models/" + p + "/inference", "{\"inputs\":{\"x\":[1]}}", "name"},
        new String[] {"GET", "/v1/models/" + p, null, "model"},
        new String[] {"POST", "/v1/chat/completions", "{\"model\":" + q + ",\"messages\":"
            + "[{\"role\":\"user\",\"content\":\"hi\"}]}", "model"},
        new String[] {"POST", "/v1/completions", "{\"model\":" + q + ",\"prompt\":\"hi\"}",
            "model"},
        new String[] {"POST", "/v1/embeddings", "{\"model\":" + q + ",\"input\":\"hi\"}", "model"},
        new String[] {"POST", "/api/chat", "{\"model\":" + q + ",\"messages\":[{\"role\":\"user\","
            + "\"content\":\"hi\"}]}", "model"},
        new String[] {"POST", "/api/embed", "{\"model\":" + q + ",\"input\":\"hi\"}", "model"},
        new String[] {"POST", "/api/show", "{\"model\":" + q + "}", "model"},
        new String[] {"GET", "/api/v1/models/" + p, null, "name"});
  }

  @Test
  void badModelNamesAre400NamingTheFieldOnEveryRoute() throws Exception {
    for (String bad : List.of("../x", "a\u0000b", "-x", ".x", "a".repeat(129), "a\nb",
        "a/../b", "x y")) {
      for (String[] route : nameRoutes(bad)) {
        var r = send(route[0], route[1], route[2]);
        assertThat(r.statusCode()).as("%s %s %s", route[0], route[1], r.body()).isEqualTo(400);
        // Jetty itself refuses some of these in a path (an encoded '/') before any route.
        if (!error(r).startsWith("Bad Request")) {
          assertBadField(r, route[3]);
          assertThat(error(r)).contains("invalid model name").hasSizeLessThan(400);
        }
      }
    }
  }

  @Test
  void aVersionAfterAColonIsRefusedWhereNoTagIsMeant() throws Exception {
    for (String[] route : nameRoutes("features:1")) {
      var r = send(route[0], route[1], route[2]);
      boolean takesTags = route[1].startsWith("/v1/") && route[2] != null
          || route[1].startsWith("/api/") && !route[1].startsWith("/api/predict")
              && !route[1].startsWith("/api/generate") && !route[1].startsWith("/api/v1/");
      if (takesTags) {
        // OpenAI's and Ollama's name:tag: version 1 of features, which does not generate.
        assertThat(r.statusCode()).as("%s %s %s", route[0], route[1], r.body()).isLessThan(500);
      } else {
        assertBadField(r, route[3]);
        assertThat(error(r)).contains("not after ':'");
      }
    }
  }

  @Test
  void wellFormedUnknownNamesAre404() throws Exception {
    for (String[] route : nameRoutes("nope")) {
      if (route[1].equals("/models") || route[1].startsWith("/batch-predict")) {
        continue; // a load of a new name, an empty batch
      }
      var r = send(route[0], route[1], route[2]);
      assertThat(r.statusCode()).as("%s %s %s", route[0], route[1], r.body()).isEqualTo(404);
    }
  }

  @Test
  void managementVersionsStillRefuseWhatTheRegistryCannotHold() throws Exception {
    for (String v : List.of("-1", THIRTY_DIGITS, "9223372036854775808", "0")) {
      var r = send("POST", "/models", "{\"name\":\"v\",\"path\":\"m/1/m.fake\",\"version\":" + v
          + "}");
      assertBadField(r, "version");
    }
    var max = send("POST", "/models", "{\"name\":\"v\",\"path\":\"m/1/m.fake\",\"version\":"
        + Long.MAX_VALUE + "}");
    assertThat(max.statusCode()).as(max.body()).isEqualTo(201);
    // The next version after Long.MAX_VALUE does not exist: refused, not wrapped.
    assertBadField(send("POST", "/models", "{\"name\":\"v\",\"path\":\"m/1/m.fake\"}"), "version");
    assertThat(send("DELETE", "/models/v", null).statusCode()).isEqualTo(200);
    for (String path : List.of("/v2/models/features/versions/-1", "/v2/models/features/versions/"
        + THIRTY_DIGITS, "/models/features/versions/" + THIRTY_DIGITS)) {
      var r = send(path.startsWith("/models") ? "DELETE" : "GET", path, null);
      assertBadField(r, "version");
    }
  }

  @Test
  void shapesWhoseCountOverflowsAre400NamingTheInput() throws Exception {
    for (String shape : List.of("[1000000000000,1000000000000]", "[4611686018427387904,4]",
        "[2305843009213693952,2305843009213693952,3]", "[" + "1,".repeat(100) + "1]")) {
      var r = send("POST", "/v2/models/features/infer", "{\"inputs\":[{\"name\":\"features\","
          + "\"datatype\":\"FP32\",\"shape\":" + shape + ",\"data\":[1,2]}]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(error(r)).startsWith("inputs[0].").hasSizeLessThan(400);
    }
    // Binary data: 2^62 FP32 elements are 2^64 bytes, which wraps to 0 in a long.
    byte[] header = ("{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":"
        + "[4611686018427387904],\"parameters\":{\"binary_data_size\":0}}]}")
        .getBytes(StandardCharsets.UTF_8);
    var r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
            + "/v2/models/features/infer")).header("Inference-Header-Content-Length",
            Integer.toString(header.length)).POST(HttpRequest.BodyPublishers.ofByteArray(header))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertBadField(r, "inputs[0].parameters.binary_data_size");
    assertThat(error(r)).contains("is too large");
    // A shape of 100,000 dimensions is refused without echoing it whole.
    var deep = send("POST", "/v2/models/features/infer", "{\"inputs\":[{\"name\":\"features\","
        + "\"datatype\":\"FP32\",\"shape\":[" + "1,".repeat(100_000) + "1],\"data\":[1]}]}");
    assertBadField(deep, "inputs[0].shape[64]");
    assertThat(deep.body().length()).isLessThan(400);
  }

  @Test
  void twoInputsWithTheSameNameAre400() throws Exception {
    String input = "{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1,2]}";
    var oip = send("POST", "/v2/models/features/infer", "{\"inputs\":[" + input + "," + input
        + "]}");
    assertBadField(oip, "inputs[1].name");
    assertThat(error(oip)).contains("given twice (also inputs[0])");
    var native_ = send("POST", "/api/predict",
        "{\"model\":\"features\",\"inputs\":{\"features\":[[1,2]],\"features\":[[3,4]]}}");
    assertThat(native_.statusCode()).isEqualTo(400);
    assertThat(error(native_)).contains("Duplicate field 'features'");
    assertBadField(send("POST", "/api/predict", "{\"model\":\"features\",\"inputs\":{\"\":[1]}}"),
        "inputs");
    assertBadField(send("POST", "/v2/models/features/infer", "{\"inputs\":[" + input
        + "],\"outputs\":[{\"name\":\"\"}]}"), "outputs[0].name");
  }

  @Test
  void aBadBatchItemIsThatItemsErrorAndTheOthersAreAnswered() throws Exception {
    var r = send("POST", "/api/batch-predict", "{\"requests\":["
        + "{\"model\":\"features\",\"inputs\":[[1,2]]},"
        + "{\"model\":\"../x\",\"inputs\":[[1,2]]},"
        + "{\"model\":\"nope\",\"inputs\":[[1,2]]},"
        + "{\"model\":\"features\",\"inputs\":[[1e39,2]]},"
        + "{\"model\":\"features\",\"version\":-1,\"inputs\":[[1,2]]},"
        + "{\"model\":\"features\",\"inputs\":[[3,4]]}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode results = JSON.readTree(r.body()).get("results");
    assertThat(results).hasSize(6);
    assertThat(results.get(0).get("outputs").toString()).isEqualTo("[[2.0,4.0]]");
    assertThat(results.get(1).get("status").asInt()).isEqualTo(400);
    assertThat(results.get(1).get("code").asText()).isEqualTo("INVALID_INPUT");
    assertThat(results.get(1).get("error").asText()).startsWith("requests[1].model: ");
    assertThat(results.get(2).get("status").asInt()).isEqualTo(404);
    assertThat(results.get(3).get("error").asText())
        .startsWith("requests[3].inputs: element 0 = 1.0E39 is out of range for FP32");
    assertThat(results.get(4).get("error").asText()).startsWith("requests[4].version: ");
    assertThat(results.get(5).get("outputs").toString()).isEqualTo("[[6.0,8.0]]");
    var camel = send("POST", "/batch-predict", "{\"modelName\":\"features\",\"batch\":["
        + "{\"inputs\":[[1,2]]},{\"inputs\":{\"nope\":[1]}},{\"inputs\":[[3,4]]}]}");
    JsonNode items = JSON.readTree(camel.body()).get("results");
    assertThat(items.get(0).has("predictions")).isTrue();
    assertThat(items.get(1).get("status").asInt()).isEqualTo(400);
    assertThat(items.get(2).has("predictions")).isTrue();
  }

  @Test
  void numbersOutOfRangeAre400NamingTheField() throws Exception {
    assertBadField(send("POST", "/v1/completions", "{\"model\":\"features\",\"prompt\":\"hi\","
        + "\"max_tokens\":" + THIRTY_DIGITS + "}"), "max_tokens");
    assertBadField(send("POST", "/v1/completions", "{\"model\":\"features\",\"prompt\":\"hi\","
        + "\"seed\":" + THIRTY_DIGITS + "}"), "seed");
    assertBadField(send("POST", "/v1/completions", "{\"model\":\"features\",\"prompt\":\"hi\","
        + "\"temperature\":1e400}"), "temperature");
    for (String topK : List.of("4294967297", THIRTY_DIGITS, "-1")) {
      assertBadField(send("POST", "/api/generate", "{\"model\":\"features\",\"prompt\":\"hi\","
          + "\"options\":{\"top_k\":" + topK + "}}"), "options.top_k");
    }
    String input = "{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1,2]}";
    assertBadField(send("POST", "/v2/models/features/infer", "{\"inputs\":[" + input
        + "],\"outputs\":[{\"name\":\"doubled\",\"parameters\":{\"classification\":"
        + THIRTY_DIGITS + "}}]}"), "outputs[0].parameters.classification");
    assertBadField(send("POST", "/v2/models/features/infer", "{\"inputs\":[{\"name\":\"features\","
        + "\"datatype\":\"FP32\",\"shape\":[1," + THIRTY_DIGITS + "],\"data\":[1,2]}]}"),
        "inputs[0].shape[1]");
    assertBadField(send("POST", "/v2/models/features/infer", "{\"inputs\":[{\"name\":\"features\","
        + "\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1e39,2]}]}"), "inputs[0].data");
    assertBadField(send("POST", "/api/predict", "{\"model\":\"all\",\"inputs\":{\"input_ids\":"
        + "[[" + THIRTY_DIGITS + "]]}}"), "inputs.input_ids[0][0]");
  }

  @Test
  void echoedClientTextIsCutAndEscaped() throws Exception {
    String longName = "x".repeat(50_000);
    var r = send("POST", "/api/predict", "{\"model\":\"" + longName + "\",\"inputs\":[[1]]}");
    assertBadField(r, "model");
    assertThat(r.body().length()).isLessThan(400);
    var nul = send("POST", "/api/predict", "{\"model\":\"a\\u0000\\nb\",\"inputs\":[[1]]}");
    assertThat(error(nul)).contains("'a\\u0000\\nb'");
    var key = send("POST", "/api/predict", "{\"model\":\"features\",\"inputs\":{\"" + longName
        + "\":[[1,2]]}}");
    assertThat(key.statusCode()).isEqualTo(400);
    assertThat(key.body().length()).isLessThan(600);
  }

  @Test
  void clientTextIsEscapedAndCutInOnePlace() {
    assertThat(ClientText.escape("a\nb\u0000c\\d\"\u00e9"))
        .isEqualTo("a\\nb\\u0000c\\\\d\\\"\\u00e9");
    assertThat(ClientText.escape("plain-name_1.2")).isEqualTo("plain-name_1.2");
    assertThat(ClientText.quote("x".repeat(1000))).hasSizeLessThan(130)
        .startsWith("'" + "x".repeat(100) + "... (1000 characters)");
    Throwable t = ClientText.escaped(new IllegalStateException("bad\nline",
        new RuntimeException("cause\r")));
    assertThat(t.getMessage()).isEqualTo("java.lang.IllegalStateException: bad\\nline");
    assertThat(t.getCause().getMessage()).isEqualTo("java.lang.RuntimeException: cause\\r");
    assertThat(ClientText.hasControl("a\u007fb")).isTrue();
    assertThat(ClientText.hasControl("a/b c.onnx")).isFalse();
  }

  @Test
  void clientStringsInLogLinesAreEscaped() throws Exception {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      send("POST", "/api/predict", "{\"model\":\"x\\nFORGED line\",\"inputs\":[[1]]}");
      send("GET", "/v2/models/x%0AFORGED%20line", null);
      send("GET", "/nothing%0AFORGED%20line", null);
      // A model path is logged when it loads: one with a control character is refused first.
      assertBadField(send("POST", "/models", "{\"name\":\"p\",\"path\":\"m/1/m.fake\\nFORGED\"}"),
          "path");
      CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
              + "/api/health")).header("X-Request-Id", "id\u00e9FORGED").build(),
          HttpResponse.BodyHandlers.ofString());
    } finally {
      System.setErr(err);
    }
    String logged = captured.toString(StandardCharsets.UTF_8);
    assertThat(logged).contains("dev.modserv.http.access");
    assertThat(logged.lines().filter(l -> l.startsWith("FORGED"))).isEmpty();
    assertThat(logged.lines().filter(l -> l.contains(" ERROR "))).isEmpty();
  }

  @Test
  void aPathWithANulIsAnsweredNotDropped() throws Exception {
    for (String path : List.of("/v2/models/%00", "/v2/models/a%00b/infer",
        "/v2/models/%00/infer", "/models/%00",
        "/api/v1/models/%00")) {
      var r = send(path.endsWith("infer") ? "POST" : "GET", path,
          path.endsWith("infer") ? "{}" : null);
      assertThat(r.statusCode()).as(path + " " + r.body()).isEqualTo(400);
      assertThat(JSON.readTree(r.body()).has("error")).isTrue();
    }
  }

  @Test
  void anAnswerBeforeTheBodyWasReadClosesTheConnection() throws Exception {
    // Refused by its route before its 100 kB body arrived: Jetty cannot drain the rest and drops
    // the connection, so the answer must say so, or the client's next request on it is lost.
    try (var socket = new java.net.Socket("127.0.0.1", http.port())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("POST /no/such/route HTTP/1.1\r\nHost: x\r\n"
          + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"inputs\":")
          .getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      String head = new String(socket.getInputStream().readNBytes(200), StandardCharsets.US_ASCII);
      assertThat(head).startsWith("HTTP/1.1 404").containsIgnoringCase("Connection: close");
    }
  }

  @Test
  void aModelWhoseOnlyVersionFailedIsNotOfferedByV1Models() throws Exception {
    var r = send("GET", "/v1/models/broken", null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(404);
    assertThat(error(r)).contains("failed to load");
    assertThat(send("GET", "/v1/models/features", null).statusCode()).isEqualTo(200);
  }
}
