package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.onnx.OnnxBackend;
import java.io.ByteArrayOutputStream;
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
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Open Inference Protocol end to end on real ONNX models that take FP32, INT64, BOOL and BYTES
 * (STRING) tensors ({@code src/test/resources/models/make_models.py}): JSON and the binary tensor
 * data extension, field by field; the repository extension; {@code POST /models/{name}/inference}.
 */
class OipOnnxTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  static final Path MODELS = Path.of("src/test/resources/models");
  static final long BIG = 1L << 40;

  @TempDir static Path tmp;
  static Path root;
  static ModelServer server;
  static HttpAdapter http;

  @BeforeAll
  static void start() throws Exception {
    server = ModelServer.builder().backend(new OnnxBackend()).discoverBackends(false).build();
    server.registry().load("all", 1, MODELS.resolve("all.onnx")).join();
    server.registry().load("ids", 1, MODELS.resolve("ids.onnx")).join();
    server.registry().load("text", 1, MODELS.resolve("text.onnx")).join();
    root = Files.createDirectories(tmp.resolve("repo"));
    for (String v : List.of("1", "2")) {
      Files.copy(MODELS.resolve("mask.onnx"),
          Files.createDirectories(root.resolve("mask").resolve(v)).resolve("model.onnx"));
    }
    Files.copy(MODELS.resolve("features.onnx"),
        Files.createDirectories(root.resolve("features/3")).resolve("features.onnx"));
    Path outside = Files.createDirectories(tmp.resolve("outside/1"));
    Files.copy(MODELS.resolve("features.onnx"), outside.resolve("m.onnx"));
    Files.createSymbolicLink(root.resolve("escape"), tmp.resolve("outside"));
    http = HttpAdapter.builder(server).port(0).management(root).build();
    http.start();
  }

  @AfterAll
  static void stop() {
    http.close();
    server.close();
  }

  static HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path))
        .timeout(Duration.ofSeconds(20));
  }

  static HttpResponse<String> post(String path, String body) throws Exception {
    return CLIENT.send(req(path).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(String path) throws Exception {
    return CLIENT.send(req(path).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<byte[]> postBinary(String path, byte[] json, byte[]... raw)
      throws Exception {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(json);
    for (byte[] r : raw) {
      body.write(r);
    }
    return CLIENT.send(req(path).header("Inference-Header-Content-Length",
            Integer.toString(json.length)).header("Content-Type", "application/octet-stream")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  static Map<String, JsonNode> byName(JsonNode outputs) {
    Map<String, JsonNode> out = new HashMap<>();
    outputs.forEach(o -> out.put(o.get("name").asText(), o));
    return out;
  }

  static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  static byte[] fp32(float... v) {
    ByteBuffer b = le(4 * v.length);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  static byte[] int64(long... v) {
    ByteBuffer b = le(8 * v.length);
    for (long l : v) {
      b.putLong(l);
    }
    return b.array();
  }

  static byte[] bytes(String... v) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String s : v) {
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      out.writeBytes(le(4).putInt(utf8.length).array());
      out.writeBytes(utf8);
    }
    return out.toByteArray();
  }

  static final String FOUR_INPUTS_JSON = "[{\"name\":\"features\",\"datatype\":\"FP32\","
      + "\"shape\":[2,2],\"data\":[1.5,-2,0.25,3]},"
      + "{\"name\":\"input_ids\",\"datatype\":\"INT64\",\"shape\":[2,3],"
      + "\"data\":[[101,7592,102],[1," + BIG + ",-7]]},"
      + "{\"name\":\"mask\",\"datatype\":\"BOOL\",\"shape\":[2,2],\"data\":[true,false,false,false]},"
      + "{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"h\u00e9llo\",\"\"]}]";

  @Test
  void modelMetadataNamesTheWireTypes() throws Exception {
    JsonNode md = json(get("/v2/models/all"));
    assertThat(md.get("name").asText()).isEqualTo("all");
    assertThat(md.get("versions").toString()).isEqualTo("[\"1\"]");
    assertThat(md.get("platform").asText()).isEqualTo("onnxruntime");
    Map<String, JsonNode> in = byName(md.get("inputs"));
    assertThat(in.get("features").toString())
        .isEqualTo("{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[-1,2]}");
    assertThat(in.get("input_ids").toString())
        .isEqualTo("{\"name\":\"input_ids\",\"datatype\":\"INT64\",\"shape\":[-1,-1]}");
    assertThat(in.get("mask").toString())
        .isEqualTo("{\"name\":\"mask\",\"datatype\":\"BOOL\",\"shape\":[-1,2]}");
    assertThat(in.get("text").toString())
        .isEqualTo("{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[-1]}");
    Map<String, JsonNode> out = byName(md.get("outputs"));
    assertThat(out.keySet()).containsExactlyInAnyOrder("doubled", "ids_plus_one", "not_mask",
        "text_out");
    assertThat(out.get("text_out").get("datatype").asText()).isEqualTo("BYTES");
    assertThat(md.get("properties").get("state").asText()).isEqualTo("READY");
  }

  @Test
  void jsonInferenceFieldByFieldForFp32Int64BoolAndBytes() throws Exception {
    var r = post("/v2/models/all/infer", "{\"id\":\"req-7\",\"inputs\":" + FOUR_INPUTS_JSON + "}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
    JsonNode b = json(r);
    assertThat(b.get("model_name").asText()).isEqualTo("all");
    assertThat(b.get("model_version").asText()).isEqualTo("1");
    assertThat(b.get("id").asText()).isEqualTo("req-7");
    assertThat(b.get("outputs")).hasSize(4);
    Map<String, JsonNode> out = byName(b.get("outputs"));
    assertThat(out.get("doubled").toString()).isEqualTo("{\"name\":\"doubled\",\"datatype\":"
        + "\"FP32\",\"shape\":[2,2],\"data\":[3.0,-4.0,0.5,6.0]}");
    assertThat(out.get("ids_plus_one").toString()).isEqualTo("{\"name\":\"ids_plus_one\","
        + "\"datatype\":\"INT64\",\"shape\":[2,3],\"data\":[102,7593,103,2," + (BIG + 1)
        + ",-6]}");
    assertThat(out.get("not_mask").toString()).isEqualTo("{\"name\":\"not_mask\",\"datatype\":"
        + "\"BOOL\",\"shape\":[2,2],\"data\":[false,true,true,true]}");
    assertThat(out.get("text_out").toString()).isEqualTo("{\"name\":\"text_out\",\"datatype\":"
        + "\"BYTES\",\"shape\":[2],\"data\":[\"h\u00e9llo\",\"\"]}");
  }

  @Test
  void requestedOutputsOnlyInTheirOrder() throws Exception {
    JsonNode b = json(post("/v2/models/all/infer", "{\"inputs\":" + FOUR_INPUTS_JSON
        + ",\"outputs\":[{\"name\":\"text_out\"},{\"name\":\"not_mask\"}]}"));
    assertThat(b.get("outputs")).hasSize(2);
    assertThat(b.get("outputs").get(0).get("name").asText()).isEqualTo("text_out");
    assertThat(b.get("outputs").get(1).get("name").asText()).isEqualTo("not_mask");
    assertThat(b.has("id")).isFalse();
  }

  /** Splits a binary response into its JSON header and raw part. */
  record Binary(JsonNode json, byte[] raw) {}

  static Binary split(HttpResponse<byte[]> r) throws Exception {
    assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
    int n = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length")
        .orElseThrow());
    return new Binary(JSON.readTree(Arrays.copyOf(r.body(), n)),
        Arrays.copyOfRange(r.body(), n, r.body().length));
  }

  @Test
  void binaryInputsAndOutputsFieldByField() throws Exception {
    String header = "{\"id\":\"bin\",\"inputs\":["
        + "{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[2,2],"
        + "\"parameters\":{\"binary_data_size\":16}},"
        + "{\"name\":\"input_ids\",\"datatype\":\"INT64\",\"shape\":[2,3],"
        + "\"parameters\":{\"binary_data_size\":48}},"
        + "{\"name\":\"mask\",\"datatype\":\"BOOL\",\"shape\":[2,2],"
        + "\"parameters\":{\"binary_data_size\":4}},"
        + "{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[2],"
        + "\"parameters\":{\"binary_data_size\":14}}],"
        + "\"outputs\":[{\"name\":\"doubled\"},{\"name\":\"ids_plus_one\"},{\"name\":\"not_mask\"},"
        + "{\"name\":\"text_out\"}],"
        + "\"parameters\":{\"binary_data_output\":true}}";
    byte[] text = bytes("h\u00e9llo", "");
    assertThat(text).hasSize(14);
    Binary b = split(postBinary("/v2/models/all/infer", header.getBytes(StandardCharsets.UTF_8),
        fp32(1.5f, -2f, 0.25f, 3f), int64(101, 7592, 102, 1, BIG, -7), new byte[] {1, 0, 0, 0},
        text));
    assertThat(b.json().get("id").asText()).isEqualTo("bin");
    assertThat(b.json().get("model_name").asText()).isEqualTo("all");
    JsonNode outs = b.json().get("outputs");
    assertThat(outs.get(0).toString()).isEqualTo("{\"name\":\"doubled\",\"datatype\":\"FP32\","
        + "\"shape\":[2,2],\"parameters\":{\"binary_data_size\":16}}");
    assertThat(outs.get(1).toString()).isEqualTo("{\"name\":\"ids_plus_one\",\"datatype\":"
        + "\"INT64\",\"shape\":[2,3],\"parameters\":{\"binary_data_size\":48}}");
    assertThat(outs.get(2).toString()).isEqualTo("{\"name\":\"not_mask\",\"datatype\":\"BOOL\","
        + "\"shape\":[2,2],\"parameters\":{\"binary_data_size\":4}}");
    assertThat(outs.get(3).toString()).isEqualTo("{\"name\":\"text_out\",\"datatype\":\"BYTES\","
        + "\"shape\":[2],\"parameters\":{\"binary_data_size\":14}}");
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(fp32(3f, -4f, 0.5f, 6f));
    expected.writeBytes(int64(102, 7593, 103, 2, BIG + 1, -6));
    expected.writeBytes(new byte[] {0, 1, 1, 1});
    expected.writeBytes(text);
    assertThat(b.raw()).isEqualTo(expected.toByteArray());
  }

  @Test
  void binaryAndJsonMixPerTensor() throws Exception {
    // features and text binary in, the rest JSON; only ids_plus_one binary out (per-output flag
    // over a request default of false).
    String header = "{\"inputs\":["
        + "{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,2],"
        + "\"parameters\":{\"binary_data_size\":8}},"
        + "{\"name\":\"input_ids\",\"datatype\":\"INT64\",\"shape\":[1,2],\"data\":[5,6]},"
        + "{\"name\":\"mask\",\"datatype\":\"BOOL\",\"shape\":[1,2],\"data\":[false,true]},"
        + "{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[1],"
        + "\"parameters\":{\"binary_data_size\":6}}],"
        + "\"outputs\":[{\"name\":\"ids_plus_one\",\"parameters\":{\"binary_data\":true}},"
        + "{\"name\":\"text_out\",\"parameters\":{\"binary_data\":false}},{\"name\":\"doubled\"}],"
        + "\"parameters\":{\"binary_data_output\":false}}";
    Binary b = split(postBinary("/v2/models/all/infer", header.getBytes(StandardCharsets.UTF_8),
        fp32(0.5f, 8f), bytes("ab")));
    JsonNode outs = b.json().get("outputs");
    assertThat(outs.get(0).get("parameters").get("binary_data_size").asInt()).isEqualTo(16);
    assertThat(outs.get(0).has("data")).isFalse();
    assertThat(outs.get(1).get("data").toString()).isEqualTo("[\"ab\"]");
    assertThat(outs.get(2).get("data").toString()).isEqualTo("[1.0,16.0]");
    assertThat(b.raw()).isEqualTo(int64(6, 7));
  }

  @Test
  void jsonRequestMayAskForBinaryOutputs() throws Exception {
    var r = CLIENT.send(req("/v2/models/text/infer").POST(HttpRequest.BodyPublishers.ofString(
            "{\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[3],"
                + "\"data\":[\"a\",\"\u00fc\",\"xyz\"]}],\"parameters\":{\"binary_data_output\":true}}"))
        .build(), HttpResponse.BodyHandlers.ofByteArray());
    Binary b = split(r);
    assertThat(r.headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/octet-stream");
    assertThat(b.json().get("outputs").get(0).toString()).isEqualTo("{\"name\":\"text_out\","
        + "\"datatype\":\"BYTES\",\"shape\":[3],\"parameters\":{\"binary_data_size\":18}}");
    assertThat(b.raw()).isEqualTo(bytes("a", "\u00fc", "xyz"));
  }

  @Test
  void rawBinaryRequestForAOneInputModel() throws Exception {
    var r = CLIENT.send(req("/v2/models/ids/infer").header("Inference-Header-Content-Length", "0")
        .POST(HttpRequest.BodyPublishers.ofByteArray(int64(5, 6, 7))).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    Binary b = split(r);
    assertThat(b.json().get("outputs").get(0).toString()).isEqualTo("{\"name\":\"ids_plus_one\","
        + "\"datatype\":\"INT64\",\"shape\":[1,3],\"parameters\":{\"binary_data_size\":24}}");
    assertThat(b.raw()).isEqualTo(int64(6, 7, 8));
    var multi = CLIENT.send(req("/v2/models/all/infer")
        .header("Inference-Header-Content-Length", "0")
        .POST(HttpRequest.BodyPublishers.ofByteArray(int64(5))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(multi.statusCode()).isEqualTo(400);
    assertThat(json(multi).get("error").asText()).contains("needs a model with one input");
  }

  @Test
  void binaryErrorsNameTheParameter() throws Exception {
    String one = "{\"inputs\":[{\"name\":\"input_ids\",\"datatype\":\"INT64\",\"shape\":[1,2],"
        + "\"parameters\":{\"binary_data_size\":%d}}]}";
    var size = postBinary("/v2/models/ids/infer",
        String.format(one, 16).getBytes(StandardCharsets.UTF_8), int64(1, 2), new byte[4]);
    assertThat(size.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(size.body()).get("error").asText()).isEqualTo(
        "4 bytes after the JSON header are not claimed by any input's binary_data_size");
    var wrong = postBinary("/v2/models/ids/infer",
        String.format(one, 8).getBytes(StandardCharsets.UTF_8), int64(1));
    assertThat(JSON.readTree(wrong.body()).get("error").asText()).startsWith(
        "inputs[0].parameters.binary_data_size: INT64 tensor of shape [1, 2] needs 16 bytes");
    var short_ = postBinary("/v2/models/ids/infer",
        String.format(one, 16).getBytes(StandardCharsets.UTF_8), int64(1));
    assertThat(JSON.readTree(short_.body()).get("error").asText()).startsWith(
        "inputs[0].parameters.binary_data_size: 16 bytes, but only 8 remain");
    var noHeader = post("/v2/models/ids/infer", String.format(one, 16));
    assertThat(noHeader.statusCode()).isEqualTo(400);
    assertThat(json(noHeader).get("error").asText()).contains("needs the"
        + " Inference-Header-Content-Length header");
    var badHeader = CLIENT.send(req("/v2/models/ids/infer")
        .header("Inference-Header-Content-Length", "999").POST(
            HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(badHeader.statusCode()).isEqualTo(400);
    assertThat(json(badHeader).get("error").asText()).startsWith("Inference-Header-Content-Length:");
    var strings = postBinary("/v2/models/text/infer", ("{\"inputs\":[{\"name\":\"text\","
        + "\"datatype\":\"BYTES\",\"shape\":[1],\"parameters\":{\"binary_data_size\":5}}]}")
        .getBytes(StandardCharsets.UTF_8), new byte[] {9, 0, 0, 0, 65});
    assertThat(JSON.readTree(strings.body()).get("error").asText()).startsWith(
        "inputs[0].parameters.binary_data_size: BYTES element 0 says 9 bytes but 1 remain");
  }

  @Test
  void serverMetadataListsTheExtensions() throws Exception {
    assertThat(json(get("/v2")).get("extensions").toString())
        .isEqualTo("[\"binary_tensor_data\",\"classification\",\"model_repository\"]");
  }

  @Test
  void managementInferenceTakesNamedTensors() throws Exception {
    var r = post("/models/ids/inference", "{\"inputs\": {\"input_ids\": [[101, 7592, 102]]}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode b = json(r);
    assertThat(b.get("model").asText()).isEqualTo("ids");
    assertThat(b.get("outputs").toString()).isEqualTo("[[102,7593,103]]");
    assertThat(b.get("n_samples").asInt()).isEqualTo(1);
    var other = post("/models/ids/inference", "{\"model\":\"text\",\"inputs\":{\"input_ids\":[[1]]}}");
    assertThat(other.statusCode()).isEqualTo(400);
    assertThat(json(other).get("error").asText()).startsWith("model: names 'text'");
    var missing = post("/models/nope/inference", "{\"inputs\":{\"x\":[[1]]}}");
    assertThat(missing.statusCode()).isEqualTo(404);
  }

  @Test
  void repositoryIndexLoadAndUnload() throws Exception {
    JsonNode index = json(post("/v2/repository/index", ""));
    Map<String, JsonNode> byName = new HashMap<>();
    index.forEach(e -> byName.put(e.get("name").asText() + ":" + e.path("version").asText(""), e));
    assertThat(byName.get("all:1").get("state").asText()).isEqualTo("READY");
    assertThat(byName.get("mask:").toString()).isEqualTo("{\"name\":\"mask\",\"state\":"
        + "\"UNAVAILABLE\",\"reason\":\"in the model repository; not loaded\"}");
    assertThat(byName).containsKey("features:");

    var v1 = post("/v2/repository/models/mask/load", "{\"parameters\":{\"version\":1}}");
    assertThat(v1.statusCode()).as(v1.body()).isEqualTo(200);
    assertThat(json(v1).get("version").asText()).isEqualTo("1");
    var loaded = post("/v2/repository/models/mask/load", "");
    assertThat(loaded.statusCode()).as(loaded.body()).isEqualTo(200);
    assertThat(json(loaded).toString())
        .isEqualTo("{\"name\":\"mask\",\"version\":\"2\",\"state\":\"READY\"}");
    var infer = json(post("/v2/models/mask/versions/2/infer", "{\"inputs\":[{\"name\":\"mask\","
        + "\"datatype\":\"BOOL\",\"shape\":[1,2],\"data\":[[true,false]]}]}"));
    assertThat(infer.get("outputs").get(0).get("data").toString()).isEqualTo("[false,true]");
    JsonNode ready = json(post("/v2/repository/index", "{\"ready\":true}"));
    assertThat(ready).allSatisfy(e -> assertThat(e.get("state").asText()).isEqualTo("READY"));
    assertThat(ready.toString()).contains("\"name\":\"mask\"");

    var unloaded = post("/v2/repository/models/mask/unload", "");
    assertThat(unloaded.statusCode()).isEqualTo(200);
    assertThat(server.registry().versions("mask")).isEmpty();

    assertThat(post("/v2/repository/models/nothing/load", "").statusCode()).isEqualTo(404);
    assertThat(post("/v2/repository/models/mask/load", "{\"parameters\":{\"version\":7}}")
        .statusCode()).isEqualTo(404);
    assertThat(post("/v2/repository/models/x/load", "{\"parameters\":{\"path\":\"../x.onnx\"}}")
        .statusCode()).isEqualTo(403);
    var link = post("/v2/repository/models/escape/load", "");
    assertThat(link.statusCode()).isEqualTo(403);
    assertThat(json(link).get("error").asText()).contains("outside the model root");
    var config = post("/v2/repository/models/mask/load", "{\"parameters\":{\"config\":\"{}\"}}");
    assertThat(config.statusCode()).isEqualTo(400);
    assertThat(json(config).get("error").asText()).startsWith("parameters.config: is not supported");
    assertThat(post("/v2/repository/models/ghost/unload", "").statusCode()).isEqualTo(404);
    assertThat(server.registry().versions("escape")).isEmpty();
  }

  @Test
  void processingAppliesToFloatTensorsOfAMixedTypeModel() throws Exception {
    // features scaled by 0.5, doubled by the model, softmaxed: [0, ln 3] -> [1/4, 3/4]; the INT64,
    // BOOL and STRING tensors pass through untouched.
    String inputs = "\"inputs\":{\"features\":[[0," + Math.log(3) + "]],\"input_ids\":[[1,2]],"
        + "\"mask\":[[true,false]],\"text\":[\"a\"]}";
    var r = post("/api/predict", "{\"model\":\"all\"," + inputs
        + ",\"preprocessing\":{\"scale\":0.5},\"postprocessing\":{\"softmax\":true}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode out = json(r).get("outputs");
    assertThat(out.get("doubled").get(0).get(0).asDouble()).isCloseTo(0.25,
        org.assertj.core.data.Offset.offset(1e-6));
    assertThat(out.get("doubled").get(0).get(1).asDouble()).isCloseTo(0.75,
        org.assertj.core.data.Offset.offset(1e-6));
    assertThat(out.get("ids_plus_one").toString()).isEqualTo("[[2,3]]");
    assertThat(out.get("not_mask").toString()).isEqualTo("[[false,true]]");
    assertThat(out.get("text_out").toString()).isEqualTo("[\"a\"]");
    var intOut = post("/api/predict", "{\"model\":\"all\"," + inputs
        + ",\"postprocessing\":{\"softmax\":true,\"outputs\":[\"ids_plus_one\"]}}");
    assertThat(intOut.statusCode()).isEqualTo(400);
    assertThat(json(intOut).get("error").asText()).isEqualTo("postprocessing.outputs: output"
        + " 'ids_plus_one' is INT64; postprocessing applies to FP32 and FP64 outputs");
    var intIn = post("/api/predict", "{\"model\":\"all\"," + inputs
        + ",\"preprocessing\":{\"scale\":2,\"inputs\":[\"input_ids\"]}}");
    assertThat(intIn.statusCode()).isEqualTo(400);
    assertThat(json(intIn).get("error").asText()).isEqualTo("preprocessing.inputs: input"
        + " 'input_ids' is INT64; preprocessing applies to FP32 and FP64 inputs");
  }
}
