package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.core.VersionPolicy;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.FakeModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /predict}, {@code /batch-predict} (camelCase) and {@code /api/generate}. */
class CamelCaseAndGenerateTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  static ModelServer server;
  static HttpAdapter http;
  /** A model whose batcher waits 50 ms to gather up to 16 rows: what is in flight together. */
  static FakeModel gathering;

  @BeforeAll
  static void start() throws Exception {
    FakeBackend backend = FakeBackend.create();
    server = ModelServer.builder().backend(backend).discoverBackends(false).build();
    server.registry().configure("iris", ModelConfig.builder()
        .versionPolicy(VersionPolicy.latest(2)).build());
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    server.registry().load("iris", 2, Path.of("iris.fake")).join();
    server.registry().configure("gathering", ModelConfig.builder().batching(BatchingPolicy
        .builder().maxBatchSize(16).maxQueueDelay(Duration.ofMillis(50)).build()).build());
    server.registry().load("gathering", 1, Path.of("gathering.fake")).join();
    gathering = backend.loaded().get(backend.loaded().size() - 1);
    http = HttpAdapter.builder(server).port(0).build();
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

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  @Test
  void predictAnswersTheCamelCaseShape() throws Exception {
    var r = post("/predict", "{\"modelName\":\"iris\",\"inputs\":[[1,2,3,4]]}");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode b = json(r);
    assertThat(b.get("predictions").toString()).isEqualTo("[[2.0,4.0,6.0,8.0]]");
    assertThat(b.get("modelVersion").asLong()).isEqualTo(2); // the highest ready version
    assertThat(b.get("inferenceTimeMs").isNumber()).isTrue();
    assertThat(b.get("inferenceTimeMs").asDouble()).isGreaterThan(0);
    assertThat(b.get("preprocessingTimeMs").asDouble()).isEqualTo(0);
    assertThat(b.get("postprocessingTimeMs").asDouble()).isEqualTo(0);
    assertThat(b.has("outputs")).isFalse();
  }

  @Test
  void predictHonoursModelVersionAndNamedInputs() throws Exception {
    var r = post("/predict",
        "{\"modelName\":\"iris\",\"modelVersion\":1,\"inputs\":{\"x\":[1,1,1,1]}}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(json(r).get("modelVersion").asLong()).isEqualTo(1);
    assertThat(json(r).get("predictions").toString()).isEqualTo("[[2.0,2.0,2.0,2.0]]");
    var label = post("/predict", "{\"modelName\":\"iris\",\"modelVersion\":\"1\",\"inputs\":[[1,1,1,1]]}");
    assertThat(json(label).get("modelVersion").asLong()).isEqualTo(1);
  }

  @Test
  void predictErrors() throws Exception {
    var missing = post("/predict", "{\"inputs\":[[1,2,3,4]]}");
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(json(missing).get("error").asText()).isEqualTo("modelName: is required");
    var nativeName = post("/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}");
    assertThat(nativeName.statusCode()).isEqualTo(400);
    var unknown = post("/predict", "{\"modelName\":\"nope\",\"inputs\":[[1,2,3,4]]}");
    assertThat(unknown.statusCode()).isEqualTo(404);
    var version = post("/predict", "{\"modelName\":\"iris\",\"modelVersion\":9,\"inputs\":[[1,2,3,4]]}");
    assertThat(version.statusCode()).isEqualTo(404);
    var bad = post("/predict", "{\"modelName\":\"iris\",\"inputs\":[[1,2,\"a\",4]]}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).get("error").asText()).startsWith("inputs[0][2]:");
  }

  @Test
  void badProcessingNamesTheField() throws Exception {
    var r = post("/predict", "{\"modelName\":\"iris\",\"inputs\":[[1,2,3,4]],"
        + "\"preprocessing\":{\"normalize\":true}}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(json(r).get("error").asText()).startsWith("preprocessing.normalize: expected");
    var unknown = post("/predict", "{\"modelName\":\"iris\",\"inputs\":[[1,2,3,4]],"
        + "\"preprocessing\":{\"sharpen\":1}}");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(json(unknown).get("error").asText())
        .startsWith("preprocessing.sharpen: unknown preprocessing operation");
    var batch = post("/batch-predict", "{\"modelName\":\"iris\",\"postprocessing\":{\"blur\":1},"
        + "\"batch\":[{\"inputs\":[[1,2,3,4]]}]}");
    assertThat(batch.statusCode()).isEqualTo(400);
    assertThat(json(batch).get("error").asText()).startsWith("postprocessing.blur: unknown");
    var nat = post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]],"
        + "\"postprocessing\":{\"argmax\":true,\"top_k\":2}}");
    assertThat(nat.statusCode()).isEqualTo(400);
    assertThat(json(nat).get("error").asText()).isEqualTo(
        "postprocessing: give argmax or top_k, not both");
  }

  @Test
  void camelCaseProcessingWithTimings() throws Exception {
    // The fake model doubles: scale 0.5 then doubling gives the inputs back; softmax of [0, ln 3]
    // is [0.25, 0.75].
    double ln3 = Math.log(3);
    var r = post("/predict", "{\"modelName\":\"iris\",\"inputs\":[[0,0,0," + ln3 + "]],"
        + "\"preprocessing\":{\"scale\":0.5},\"postprocessing\":{\"top_k\":1}}");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode b = json(r);
    JsonNode best = b.get("predictions").get(0).get(0);
    assertThat(best.get("index").asInt()).isEqualTo(3);
    assertThat(best.get("score").asDouble()).isCloseTo(ln3, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(b.get("preprocessingTimeMs").asDouble()).isGreaterThan(0);
    assertThat(b.get("postprocessingTimeMs").asDouble()).isGreaterThan(0);
    assertThat(b.get("inferenceTimeMs").asDouble()).isGreaterThan(0);
  }

  @Test
  void batchPredictAnswersEachItem() throws Exception {
    var r = post("/batch-predict", "{\"modelName\":\"iris\",\"maxBatchSize\":4,\"batch\":["
        + "{\"inputs\":[[1,2,3,4]]},{\"inputs\":[[true]]},"
        + "{\"inputs\":[[0,0,0,1]],\"preprocessing\":{\"scale\":2}},{\"inputs\":{\"x\":[[1,1,1,1]]}}]}");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode results = json(r).get("results");
    assertThat(results).hasSize(4);
    assertThat(results.get(0).get("predictions").toString()).isEqualTo("[[2.0,4.0,6.0,8.0]]");
    assertThat(results.get(0).get("modelVersion").asLong()).isEqualTo(2);
    assertThat(results.get(0).get("preprocessingTimeMs").asDouble()).isEqualTo(0);
    assertThat(results.get(1).get("status").asInt()).isEqualTo(400);
    assertThat(results.get(1).get("error").asText()).startsWith("batch[1].inputs:");
    // scale 2, then the model doubles
    assertThat(results.get(2).get("predictions").toString()).isEqualTo("[[0.0,0.0,0.0,4.0]]");
    assertThat(results.get(2).get("preprocessingTimeMs").asDouble()).isGreaterThan(0);
    assertThat(results.get(3).get("predictions").toString()).isEqualTo("[[2.0,2.0,2.0,2.0]]");
  }

  @Test
  void maxBatchSizeRunsALargerBatchInChunks() throws Exception {
    int before = gathering.rowsPerRun().size();
    StringBuilder items = new StringBuilder();
    for (int i = 1; i <= 5; i++) {
      items.append(i == 1 ? "" : ",").append("{\"inputs\":[[").append(i).append(",0,0,0]]}");
    }
    var r = post("/batch-predict", "{\"modelName\":\"gathering\",\"maxBatchSize\":2,\"batch\":["
        + items + "]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode results = json(r).get("results");
    assertThat(results).hasSize(5);
    for (int i = 1; i <= 5; i++) {
      assertThat(results.get(i - 1).get("predictions").toString())
          .isEqualTo("[[" + 2.0 * i + ",0.0,0.0,0.0]]");
    }
    var snake = post("/api/batch-predict", "{\"max_batch_size\":2,\"requests\":["
        + items.toString().replace("{\"inputs\"", "{\"model\":\"gathering\",\"inputs\"") + "]}");
    assertThat(snake.statusCode()).as(snake.body()).isEqualTo(200);
    assertThat(json(snake).get("results")).hasSize(5);
    assertThat(json(snake).get("results").get(4).get("outputs").toString())
        .isEqualTo("[[10.0,0.0,0.0,0.0]]");
    // At most two items were in flight at once, so no run of the gathering batcher had more rows.
    List<Long> runs = gathering.rowsPerRun().subList(before, gathering.rowsPerRun().size());
    assertThat(runs).allMatch(rows -> rows <= 2);
    assertThat(runs.stream().mapToLong(Long::longValue).sum()).isEqualTo(10);
  }

  @Test
  void batchPredictErrors() throws Exception {
    var unknown = post("/batch-predict", "{\"modelName\":\"nope\",\"batch\":[{\"inputs\":[[1,2,3,4]]}]}");
    assertThat(unknown.statusCode()).isEqualTo(200);
    assertThat(json(unknown).get("results").get(0).get("code").asText()).isEqualTo("MODEL_NOT_FOUND");
    var zero = post("/batch-predict", "{\"modelName\":\"iris\",\"maxBatchSize\":0,\"batch\":[]}");
    assertThat(zero.statusCode()).isEqualTo(400);
    assertThat(json(zero).get("error").asText())
        .isEqualTo("maxBatchSize: expected an integer >= 1, got 0");
    var fraction = post("/batch-predict", "{\"modelName\":\"iris\",\"maxBatchSize\":1.5,"
        + "\"batch\":[]}");
    assertThat(json(fraction).get("error").asText()).startsWith("maxBatchSize: expected an integer");
    var snake = post("/api/batch-predict", "{\"max_batch_size\":\"2\",\"requests\":[]}");
    assertThat(snake.statusCode()).isEqualTo(400);
    assertThat(json(snake).get("error").asText()).startsWith("max_batch_size: expected an integer");
    var noName = post("/batch-predict", "{\"batch\":[{\"inputs\":[[1,2,3,4]]}]}");
    assertThat(json(noName).get("error").asText()).isEqualTo("modelName: is required");
    var noBatch = post("/batch-predict", "{\"modelName\":\"iris\"}");
    assertThat(noBatch.statusCode()).isEqualTo(400);
    assertThat(json(noBatch).get("error").asText()).startsWith("batch:");
  }

  @Test
  void generateWithInputsIsPredict() throws Exception {
    var r = post("/api/generate", "{\"model\":\"iris\",\"version\":1,\"inputs\":[[1,2,3,4]]}");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode b = json(r);
    assertThat(b.get("outputs").toString()).isEqualTo("[[2.0,4.0,6.0,8.0]]");
    assertThat(b.get("version").asLong()).isEqualTo(1);
    assertThat(b.get("done").asBoolean()).isTrue();
  }

  @Test
  void generateWithAPromptNeedsAModelThatGenerates() throws Exception {
    var r = post("/api/generate", "{\"model\":\"iris\",\"prompt\":\"Why is the sky blue?\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(json(r).get("error").asText()).isEqualTo("model: model 'iris' does not generate"
        + " text; load a GGUF model with the llama.cpp engine (modserv-llama) to generate");
    assertThat(json(r).has("response")).isFalse();
    var missing = post("/api/generate", "{\"model\":\"nope\",\"prompt\":\"hi\"}");
    assertThat(missing.statusCode()).isEqualTo(404);
    var both = post("/api/generate", "{\"model\":\"iris\",\"prompt\":\"hi\",\"inputs\":[[1,2,3,4]]}");
    assertThat(both.statusCode()).isEqualTo(400);
    var neither = post("/api/generate", "{\"model\":\"iris\"}");
    assertThat(neither.statusCode()).isEqualTo(400);
    assertThat(json(neither).get("error").asText()).startsWith("inputs:");
    var array = post("/api/generate", "[1]");
    assertThat(array.statusCode()).isEqualTo(400);
  }
}
