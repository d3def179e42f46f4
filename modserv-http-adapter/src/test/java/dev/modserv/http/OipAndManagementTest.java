package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
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

/** Open Inference Protocol v2 shapes, field by field, and the management API's path checks. */
class OipAndManagementTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).build();

  @TempDir static Path tmp;
  static Path root;
  static ModelServer server;
  static HttpAdapter http;

  @BeforeAll
  static void start() throws Exception {
    server = ModelServer.builder().backend(FakeBackend.create()).discoverBackends(false).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    root = Files.createDirectories(tmp.resolve("models"));
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

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  @Test
  void serverMetadataAndHealth() throws Exception {
    JsonNode md = json(send("GET", "/v2", null));
    assertThat(md.get("name").asText()).isEqualTo("modserv");
    assertThat(md.get("version").isTextual()).isTrue();
    assertThat(md.get("extensions").isArray()).isTrue();
    assertThat(send("GET", "/v2/health/live", null).body()).isEqualTo("{\"live\":true}");
    assertThat(send("GET", "/v2/health/ready", null).body()).isEqualTo("{\"ready\":true}");
  }

  @Test
  void modelMetadataAndReady() throws Exception {
    for (String path : List.of("/v2/models/iris", "/v2/models/iris/versions/1")) {
      JsonNode md = json(send("GET", path, null));
      assertThat(md.get("name").asText()).isEqualTo("iris");
      assertThat(md.get("versions").toString()).isEqualTo("[\"1\"]");
      assertThat(md.get("platform").asText()).isEqualTo("fake");
      assertThat(md.get("inputs").toString())
          .isEqualTo("[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,4]}]");
      assertThat(md.get("outputs").toString())
          .isEqualTo("[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[-1,4]}]");
    }
    assertThat(send("GET", "/v2/models/iris/ready", null).body())
        .isEqualTo("{\"name\":\"iris\",\"ready\":true}");
    var missing = send("GET", "/v2/models/nope", null);
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(json(missing).fieldNames()).toIterable().containsExactly("error");
    assertThat(send("GET", "/v2/models/iris/versions/7/ready", null).statusCode()).isEqualTo(404);
  }

  @Test
  void inferFlatAndNestedWithIdAndRequestedOutputs() throws Exception {
    for (String data : List.of("[1,2,3,4,5,6,7,8]", "[[1,2,3,4],[5,6,7,8]]")) {
      var r = send("POST", "/v2/models/iris/infer", "{\"id\":\"42\",\"inputs\":[{\"name\":\"x\","
          + "\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":" + data + "}],"
          + "\"outputs\":[{\"name\":\"y\"}]}");
      assertThat(r.statusCode()).isEqualTo(200);
      JsonNode b = json(r);
      assertThat(b.get("model_name").asText()).isEqualTo("iris");
      assertThat(b.get("model_version").asText()).isEqualTo("1");
      assertThat(b.get("id").asText()).isEqualTo("42");
      JsonNode y = b.get("outputs").get(0);
      assertThat(y.get("name").asText()).isEqualTo("y");
      assertThat(y.get("datatype").asText()).isEqualTo("FP32");
      assertThat(y.get("shape").toString()).isEqualTo("[2,4]");
      assertThat(y.get("data").toString()).isEqualTo("[2.0,4.0,6.0,8.0,10.0,12.0,14.0,16.0]");
    }
    var noId = json(send("POST", "/v2/models/iris/versions/1/infer", "{\"inputs\":[{\"name\":\"x\","
        + "\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}"));
    assertThat(noId.has("id")).isFalse();
  }

  @Test
  void classificationAnswersTheTopClassesAsTritonDoes() throws Exception {
    // y = 2x: [2, 8, 6, 4] and [0, 0, 10, 2]; the best two of each row as "score:index".
    String inputs = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,4],\"datatype\":\"FP32\","
        + "\"data\":[[1,4,3,2],[0,0,5,1]]}],";
    var r = send("POST", "/v2/models/iris/infer", inputs
        + "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"classification\":2}}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(json(r).get("outputs").toString()).isEqualTo("[{\"name\":\"y\","
        + "\"datatype\":\"BYTES\",\"shape\":[2,2],\"data\":[\"8.000000:1\",\"6.000000:2\","
        + "\"10.000000:2\",\"2.000000:3\"]}]");
    // The binary form: the same strings, each a 4-byte little-endian length and its bytes.
    var binary = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
        + "/v2/models/iris/infer")).POST(HttpRequest.BodyPublishers.ofString(inputs
        + "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"classification\":1,"
        + "\"binary_data\":true}}]}")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(binary.statusCode()).isEqualTo(200);
    byte[] body = binary.body();
    int jsonLength = Integer.parseInt(binary.headers()
        .firstValue("Inference-Header-Content-Length").orElseThrow());
    assertThat(JSON.readTree(new String(body, 0, jsonLength, StandardCharsets.UTF_8))
        .get("outputs").toString()).isEqualTo("[{\"name\":\"y\",\"datatype\":\"BYTES\","
        + "\"shape\":[2,1],\"parameters\":{\"binary_data_size\":29}}]");
    ByteBuffer raw = ByteBuffer.wrap(body, jsonLength, body.length - jsonLength)
        .order(ByteOrder.LITTLE_ENDIAN);
    assertThat(raw.getInt()).isEqualTo(10);
    assertThat(new String(body, raw.position(), 10, StandardCharsets.UTF_8)).isEqualTo("8.000000:1");
    raw.position(raw.position() + 10);
    assertThat(raw.getInt()).isEqualTo(11);
    assertThat(new String(body, raw.position(), 11, StandardCharsets.UTF_8))
        .isEqualTo("10.000000:2");
    var zero = send("POST", "/v2/models/iris/infer", inputs
        + "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"classification\":0}}]}");
    assertThat(zero.statusCode()).isEqualTo(400);
    assertThat(json(zero).get("error").asText())
        .startsWith("outputs[0].parameters.classification: expected a class count >= 1");
  }

  @Test
  void inferErrorsNameTheField() throws Exception {
    var count = send("POST", "/v2/models/iris/infer", "{\"inputs\":[{\"name\":\"x\","
        + "\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}");
    assertThat(count.statusCode()).isEqualTo(400);
    assertThat(json(count).get("error").asText()).startsWith("inputs[0].data: shape [2, 4] holds 8");
    var type = send("POST", "/v2/models/iris/infer", "{\"inputs\":[{\"name\":\"x\","
        + "\"shape\":[1,4],\"datatype\":\"UINT32\",\"data\":[1,2,3,4]}]}");
    assertThat(json(type).get("error").asText()).startsWith("inputs[0].datatype: datatype UINT32");
    var bool = send("POST", "/v2/models/iris/infer", "{\"inputs\":[{\"name\":\"x\","
        + "\"shape\":[1,4],\"datatype\":\"BOOL\",\"data\":[1,2,3,4]}]}");
    assertThat(json(bool).get("error").asText()).startsWith("inputs[0].data: expected BOOL");
    // INT64, BOOL and BYTES parse into their tensor types; the FP32 model then refuses them.
    for (String in : List.of("\"INT64\",\"data\":[1,2,3,4]", "\"BOOL\",\"data\":[true,false,true,true]",
        "\"BYTES\",\"data\":[\"a\",\"b\",\"c\",\"d\"]")) {
      var r = send("POST", "/v2/models/iris/infer", "{\"inputs\":[{\"name\":\"x\","
          + "\"shape\":[1,4],\"datatype\":" + in + "}]}");
      assertThat(r.statusCode()).as(in).isEqualTo(400);
      assertThat(json(r).get("error").asText()).as(in).doesNotStartWith("inputs[0].data");
    }
  }

  @Test
  void managementLoadsInsideTheRootOnly() throws Exception {
    var loaded = send("POST", "/models", "{\"name\":\"m\",\"path\":\"m/1/model.fake\"}");
    assertThat(loaded.statusCode()).isEqualTo(201);
    assertThat(json(loaded).get("state").asText()).isEqualTo("READY");
    assertThat(json(send("GET", "/models", null)).get("models").toString())
        .contains("\"name\":\"m\"").contains("\"warmupComplete\"");
    assertThat(send("POST", "/models", "{\"name\":\"e\",\"path\":\"../x.fake\"}").statusCode())
        .isEqualTo(403);
    assertThat(send("POST", "/models", "{\"name\":\"e\",\"path\":\"m/../../x.fake\"}")
        .statusCode()).isEqualTo(403);
    assertThat(send("POST", "/models", "{\"name\":\"e\",\"path\":\"" + tmp.resolve("x.fake")
        + "\"}").statusCode()).isEqualTo(403);
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.createSymbolicLink(root.resolve("link"), outside);
    var escaped = send("POST", "/models", "{\"name\":\"e\",\"path\":\"link/x.fake\"}");
    assertThat(escaped.statusCode()).isEqualTo(403);
    assertThat(json(escaped).get("error").asText()).contains("outside the model root");
    assertThat(server.registry().versions("e")).isEmpty();
    var deleted = send("DELETE", "/models/m/versions/1", null);
    assertThat(deleted.statusCode()).isEqualTo(200);
    assertThat(server.registry().versions("m")).allMatch(s -> s.state().name().equals("UNLOADED"));
    assertThat(send("DELETE", "/models/ghost", null).statusCode()).isEqualTo(404);
  }

  @Test
  void managementIsOffByDefault() throws Exception {
    try (HttpAdapter a = HttpAdapter.builder(server).port(0).build()) {
      a.start();
      var r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port()
          + "/models")).GET().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(404);
    }
  }
}
