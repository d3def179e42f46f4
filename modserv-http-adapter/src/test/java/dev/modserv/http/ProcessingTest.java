package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelProcessing;
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

/**
 * Pre- and post-processing on the native API, per request and configured per model, against
 * values worked out by hand. The fake model answers {@code y = 2x} for {@code x} of shape [-1, 4].
 */
class ProcessingTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  static final double LN2 = Math.log(2);
  static final double LN3 = Math.log(3);

  @TempDir static Path tmp;
  static Path root;
  static ModelServer server;
  static HttpAdapter http;

  @BeforeAll
  static void start() throws Exception {
    server = ModelServer.builder().backend(FakeBackend.create()).discoverBackends(false).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    root = Files.createDirectories(tmp.resolve("models"));
    Files.writeString(root.resolve("labels.txt"), "cat\ndog\nbird\nfish\n\n");
    Path outside = Files.writeString(tmp.resolve("secret.txt"), "a\nb\nc\nd\n");
    Files.createSymbolicLink(root.resolve("link.txt"), outside);
    // Processing is the model's (ModelConfig): every dialect applies it.
    server.registry().configure("cls", ModelConfig.builder().processing(ModelProcessing.builder()
        .scale(0.5).softmax().argmax().labels(List.of("cat", "dog", "bird", "fish")).build())
        .build());
    server.registry().configure("top", ModelConfig.builder().processing(ModelProcessing.builder()
        .topK(2).labelsFile(root.resolve("labels.txt")).build()).build());
    server.registry().load("cls", 1, Path.of("cls.fake")).join();
    server.registry().load("top", 1, Path.of("top.fake")).join();
    http = HttpAdapter.builder(server).port(0).management(root).build();
    http.start();
  }

  @AfterAll
  static void stop() {
    http.close();
    server.close();
  }

  static HttpResponse<String> post(String path, String body) throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode ok(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  static JsonNode predict(String inputs, String processing) throws Exception {
    return ok(post("/api/predict", "{\"model\":\"iris\",\"inputs\":" + inputs
        + (processing.isEmpty() ? "" : "," + processing) + "}"));
  }

  static void assertRow(JsonNode row, double... expected) {
    assertThat(row).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(row.get(i).asDouble()).as("element %d of %s", i, row).isCloseTo(expected[i],
          offset(1e-6));
    }
  }

  @Test
  void scaleNormalizeAndStandardize() throws Exception {
    assertRow(predict("[[1,2,3,4]]", "\"preprocessing\":{\"scale\":0.5}").get("outputs").get(0),
        1, 2, 3, 4);
    // (x - 0) / (10 - 0), doubled
    assertRow(predict("[[0,5,10,2.5]]", "\"preprocessing\":{\"normalize\":{\"min\":0,\"max\":10}}")
        .get("outputs").get(0), 0, 1, 2, 0.5);
    // per channel: (2-1)/1, (4-2)/2, (7-3)/4, (12-4)/8 = 1 each, doubled
    assertRow(predict("[[2,4,7,12]]",
        "\"preprocessing\":{\"mean\":[1,2,3,4],\"std\":[1,2,4,8]}").get("outputs").get(0),
        2, 2, 2, 2);
    assertRow(predict("[[2,4,7,12],[1,2,3,4]]",
        "\"preprocessing\":{\"standardize\":{\"mean\":[1,2,3,4],\"std\":[1,2,4,8],\"axis\":1}}")
        .get("outputs").get(1), 0, 0, 0, 0);
    // In the order given: scale 2 then normalize [1, 4] is (2x - 1) / 3 ...
    assertRow(predict("[[1,2,4,0.5]]",
        "\"preprocessing\":{\"scale\":2,\"normalize\":{\"min\":1,\"max\":4}}").get("outputs").get(0),
        2.0 / 3, 2, 14.0 / 3, 0);
    // ... and normalize then scale is 2 (x - 1) / 3.
    assertRow(predict("[[1,2,4,0.5]]",
        "\"preprocessing\":{\"normalize\":{\"min\":1,\"max\":4},\"scale\":2}").get("outputs").get(0),
        0, 4.0 / 3, 4, -2.0 / 3);
  }

  @Test
  void softmaxArgmaxThresholdAndTopK() throws Exception {
    // y = [0, ln 3, 0, 0] and [ln 2, 0, 0, ln 4]: softmax [1, 3, 1, 1] / 6 and [2, 1, 1, 4] / 8.
    String x = "[[0," + LN3 / 2 + ",0,0],[" + LN2 / 2 + ",0,0," + LN2 + "]]";
    JsonNode soft = predict(x, "\"postprocessing\":{\"softmax\":true}").get("outputs");
    assertRow(soft.get(0), 1.0 / 6, 0.5, 1.0 / 6, 1.0 / 6);
    assertRow(soft.get(1), 0.25, 0.125, 0.125, 0.5);
    assertThat(predict(x, "\"postprocessing\":{\"softmax\":true,\"argmax\":true}")
        .get("outputs").toString()).isEqualTo("[1,3]");
    assertThat(predict(x, "\"postprocessing\":{\"argmax\":true,\"labels\":[\"a\",\"b\",\"c\",\"d\"]}")
        .get("outputs").toString()).isEqualTo("[\"b\",\"d\"]");
    assertThat(predict(x, "\"postprocessing\":{\"softmax\":true,\"threshold\":0.2}")
        .get("outputs").toString()).isEqualTo("[[false,true,false,false],[true,false,false,true]]");
    JsonNode top = predict(x, "\"postprocessing\":{\"softmax\":true,\"top_k\":2,"
        + "\"labels_file\":\"labels.txt\"}").get("outputs");
    assertThat(top.get(0).get(0).get("index").asInt()).isEqualTo(1);
    assertThat(top.get(0).get(0).get("label").asText()).isEqualTo("dog");
    assertThat(top.get(0).get(0).get("score").asDouble()).isCloseTo(0.5, offset(1e-6));
    // A tie keeps the lower class first.
    assertThat(top.get(0).get(1).get("index").asInt()).isEqualTo(0);
    assertThat(top.get(0).get(1).get("label").asText()).isEqualTo("cat");
    assertThat(top.get(0).get(1).get("score").asDouble()).isCloseTo(1.0 / 6, offset(1e-6));
    assertThat(top.get(1).get(0).get("label").asText()).isEqualTo("fish");
    assertThat(top.get(1).get(1).get("label").asText()).isEqualTo("cat");
    assertThat(top.get(1).get(1).get("score").asDouble()).isCloseTo(0.25, offset(1e-6));
    // threshold with top_k drops the classes under it
    JsonNode kept = predict(x, "\"postprocessing\":{\"softmax\":true,\"top_k\":3,\"threshold\":0.2}")
        .get("outputs");
    assertThat(kept.get(0)).hasSize(1);
    assertThat(kept.get(1)).hasSize(2);
    assertThat(kept.get(0).get(0).has("label")).isFalse();
  }

  @Test
  void timingsAreReported() throws Exception {
    JsonNode b = predict("[[1,2,3,4]]", "\"preprocessing\":{\"scale\":1},"
        + "\"postprocessing\":{\"softmax\":true}");
    assertThat(b.get("preprocessing_us").isIntegralNumber()).isTrue();
    assertThat(b.get("inference_us").asLong()).isGreaterThan(0);
    assertThat(b.get("postprocessing_us").isIntegralNumber()).isTrue();
    assertThat(b.get("latency_us").asLong()).isGreaterThanOrEqualTo(b.get("inference_us").asLong());
    JsonNode plain = predict("[[1,2,3,4]]", "");
    assertThat(plain.get("preprocessing_us").asLong()).isZero();
    assertThat(plain.get("postprocessing_us").asLong()).isZero();
    assertThat(plain.get("outputs").toString()).isEqualTo("[[2.0,4.0,6.0,8.0]]");
  }

  @Test
  void modelConfigurationAppliesUnlessTheRequestBringsItsOwn() throws Exception {
    // configured: scale 0.5, softmax, argmax with labels; y = x, so the largest input wins
    JsonNode b = ok(post("/api/predict", "{\"model\":\"cls\",\"inputs\":[[1,5,2,0],[9,1,1,1]]}"));
    assertThat(b.get("outputs").toString()).isEqualTo("[\"dog\",\"cat\"]");
    assertThat(b.get("preprocessing_us").isIntegralNumber()).isTrue();
    JsonNode own = ok(post("/api/predict", "{\"model\":\"cls\",\"inputs\":[[1,5,2,0]],"
        + "\"preprocessing\":{},\"postprocessing\":{\"top_k\":1}}"));
    JsonNode best = own.get("outputs").get(0).get(0);
    assertThat(best.get("index").asInt()).isEqualTo(1);
    assertThat(best.get("score").asDouble()).isEqualTo(10.0);
    JsonNode camel = ok(post("/predict", "{\"modelName\":\"cls\",\"inputs\":[[0,0,3,0]]}"));
    assertThat(camel.get("predictions").toString()).isEqualTo("[\"bird\"]");
    assertThat(camel.get("postprocessingTimeMs").asDouble()).isGreaterThan(0);
    JsonNode batch = ok(post("/api/batch-predict", "{\"requests\":["
        + "{\"model\":\"cls\",\"inputs\":[[0,0,0,1]]},"
        + "{\"model\":\"iris\",\"inputs\":[[1,1,1,1]],\"preprocessing\":{\"scale\":3}}]}"));
    assertThat(batch.get("results").get(0).get("outputs").toString()).isEqualTo("[\"fish\"]");
    assertThat(batch.get("results").get(1).get("outputs").toString())
        .isEqualTo("[[6.0,6.0,6.0,6.0]]");
  }

  @Test
  void aLabelsFileGivenInTheBuilderIsReadOnce() throws Exception {
    JsonNode b = ok(post("/api/predict", "{\"model\":\"top\",\"inputs\":[[1,4,3,2]]}"));
    assertThat(b.get("outputs").toString()).isEqualTo("[[{\"index\":1,\"label\":\"dog\","
        + "\"score\":8.0},{\"index\":2,\"label\":\"bird\",\"score\":6.0}]]");
  }

  @Test
  void errorsNameTheField() throws Exception {
    var unknown = post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]],"
        + "\"preprocessing\":{\"rotate\":90}}");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(unknown.body()).get("error").asText())
        .startsWith("preprocessing.rotate: unknown preprocessing operation");
    var post = post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]],"
        + "\"postprocessing\":{\"sigmoid\":true}}");
    assertThat(JSON.readTree(post.body()).get("error").asText())
        .startsWith("postprocessing.sigmoid: unknown postprocessing operation");
    var channels = post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]],"
        + "\"preprocessing\":{\"mean\":[1,2,3]}}");
    assertThat(channels.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(channels.body()).get("error").asText())
        .startsWith("preprocessing: standardize has 3 channel values but input 'x' has 4"
            + " channels");
    var labels = post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]],"
        + "\"postprocessing\":{\"argmax\":true,\"labels\":[\"a\",\"b\"]}}");
    assertThat(labels.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(labels.body()).get("error").asText())
        .isEqualTo("postprocessing.labels: has 2 labels but output 'y' has 4 classes");
    var range = post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]],"
        + "\"preprocessing\":{\"normalize\":{\"min\":3,\"max\":3}}}");
    assertThat(JSON.readTree(range.body()).get("error").asText())
        .startsWith("preprocessing.normalize: max must be greater than min");
    var escape = post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]],"
        + "\"postprocessing\":{\"argmax\":true,\"labels_file\":\"../secret.txt\"}}");
    assertThat(escape.statusCode()).isEqualTo(403);
    var link = post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]],"
        + "\"postprocessing\":{\"argmax\":true,\"labels_file\":\"link.txt\"}}");
    assertThat(link.statusCode()).isEqualTo(403);
    assertThat(JSON.readTree(link.body()).get("error").asText())
        .startsWith("postprocessing.labels_file: path: link.txt resolves outside the model root");
  }

  @Test
  void builderRefusesOptionsThatDoNotGoTogether() {
    assertThatThrownBy(() -> ModelProcessing.builder().argmax().topK(2).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("argmax or top_k");
    assertThatThrownBy(() -> ModelProcessing.builder().labels(List.of("a")).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("labels");
    assertThatThrownBy(() -> ModelProcessing.builder().argmax()
        .labelsFile(root.resolve("missing.txt")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot read the labels file missing.txt");
    assertThatThrownBy(() -> ModelProcessing.builder().softmax().softmax())
        .isInstanceOf(IllegalStateException.class).hasMessage("softmax was already set");
    assertThatThrownBy(() -> ModelProcessing.builder().normalize(1, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ModelProcessing.builder()
        .standardize(new double[] {1}, new double[] {0}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("std");
    assertThatThrownBy(() -> ModelConfig.builder()
        .processing(ModelProcessing.builder().scale(2).build())
        .processing(ModelProcessing.builder().scale(2).build()))
        .isInstanceOf(IllegalStateException.class);
  }
}
