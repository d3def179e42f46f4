package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.onnx.AllMiniLmL6V2;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code modserv serve} in process, over HTTP: the default model, and a repository. */
class StandaloneServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir Path tmp;

  private static ServeOptions options(Path repository, Path cache, Path keyFile) {
    return options(repository, cache, keyFile, true);
  }

  private static ServeOptions options(Path repository, Path cache, Path keyFile, boolean strict) {
    return new ServeOptions(repository, "127.0.0.1", 0, null, keyFile, Duration.ZERO, cache,
        64L << 20, -1, Duration.ofSeconds(5), null, -1, List.of(), 64L << 20, 64L << 20, strict,
        null);
  }

  @Test
  void readinessForgetsAModelRemovedFromTheRepositoryAndIsStrictAboutFailedOnes()
      throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    RepositoryTest.version(repo, "good", 1);
    RepositoryTest.version(repo, "leaving", 1);
    Files.writeString(Files.createDirectories(repo.resolve("broken/1")).resolve("model.onnx"),
        "not an onnx model");
    try (StandaloneServer lenient = StandaloneServer.start(options(repo, tmp.resolve("c"), null,
        false))) {
      String base = "http://127.0.0.1:" + lenient.port();
      assertThat(send("GET", base + "/ready", null, null).statusCode()).isEqualTo(200);
    }
    try (StandaloneServer s = StandaloneServer.start(options(repo, tmp.resolve("c"), null))) {
      String base = "http://127.0.0.1:" + s.port();
      HttpResponse<String> unready = send("GET", base + "/ready", null, null);
      assertThat(unready.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(unready.body()).get("waiting").toString())
          .isEqualTo("[\"broken\"]");
      // Its folder goes: it is no longer required, and nothing else keeps the server unready.
      deleteTree(repo.resolve("broken"));
      deleteTree(repo.resolve("leaving"));
      Repository r = java.util.Objects.requireNonNull(s.repository());
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!s.modelServer().registry().versions("leaving").isEmpty()
          || !s.modelServer().registry().versions("broken").isEmpty()) {
        assertThat(System.nanoTime() - deadline).as("the removed models unload").isNegative();
        r.poll();
        Thread.sleep(50);
      }
      assertThat(send("GET", base + "/ready", null, null).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void theSelectorsAskedForServeTheRepository() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    RepositoryTest.version(repo, "good", 1);
    int before = roundSelectorThreads();
    ServeOptions o = options(repo, tmp.resolve("c"), null);
    ServeOptions three = new ServeOptions(o.repository(), o.host(), o.port(), o.socket(),
        o.apiKeyFile(), o.pollInterval(), o.cacheDir(), o.progressThreshold(),
        o.maxLoadedBytes(), o.gracePeriod(), o.requestTimeout(), o.maxBodyBytes(),
        o.corsOrigins(), o.responseCacheBytes(), o.embeddingCacheBytes(), o.strictReadiness(),
        o.grpc(), o.models(), o.fit(), o.selectorSpin(), 3);
    try (StandaloneServer s = StandaloneServer.start(three)) {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (roundSelectorThreads() != before + 3 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(roundSelectorThreads()).as("selector threads of the TCP listener")
          .isEqualTo(before + 3);
      assertThat(send("GET", "http://127.0.0.1:" + s.port() + "/ready", null, null).statusCode())
          .isEqualTo(200);
    }
  }

  /** Threads waiting in an HTTP round selector: one for each selector, when idle. */
  private static int roundSelectorThreads() {
    return (int) Thread.getAllStackTraces().values().stream()
        .filter(stack -> java.util.Arrays.stream(stack).anyMatch(frame ->
            frame.getClassName().equals("dev.modserv.http.internal.RoundSelector")
                && frame.getMethodName().equals("nioSelect")))
        .count();
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private HttpResponse<String> send(String method, String url, String body, String key)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesTheDefaultModelForPredictAndOipV2() throws Exception {
    try (StandaloneServer s = StandaloneServer.start(options(null, tmp.resolve("cache"), null))) {
      String base = "http://127.0.0.1:" + s.port();
      assertThat(Files.isRegularFile(tmp.resolve("cache/models/all-minilm-l6-v2")
          .resolve("1.20.0-beta30/model.onnx"))).isTrue();
      // Every probe path the Kubernetes manifests use (deploy/kubernetes) answers.
      for (String probe : List.of("/health", "/ready", "/v2/health/live", "/v2/health/ready")) {
        assertThat(send("GET", base + probe, null, null).statusCode()).as(probe).isEqualTo(200);
      }

      HttpResponse<String> predict = send("POST", base + "/api/predict",
          "{\"model\": \"all-minilm-l6-v2\", \"inputs\": {\"text\": [\"hello world\"]}}", null);
      assertThat(predict.statusCode()).as(predict.body()).isEqualTo(200);
      JsonNode row = JSON.readTree(predict.body()).get("outputs").get("embedding").get(0);
      assertThat(row.size()).isEqualTo(384);
      float[] direct = s.modelServer().embed(AllMiniLmL6V2.NAME, List.of("hello world"))[0];
      for (int i = 0; i < 384; i++) {
        assertThat(row.get(i).floatValue()).isCloseTo(direct[i], Offset.offset(1e-6f));
      }

      HttpResponse<String> meta = send("GET", base + "/v2/models/all-minilm-l6-v2", null, null);
      assertThat(JSON.readTree(meta.body()).get("inputs").get(0).get("datatype").asText())
          .isEqualTo("BYTES");
      HttpResponse<String> infer = send("POST", base + "/v2/models/all-minilm-l6-v2/infer",
          "{\"inputs\": [{\"name\": \"text\", \"shape\": [2], \"datatype\": \"BYTES\","
              + " \"data\": [\"hello world\", \"a second sentence\"]}]}", null);
      assertThat(infer.statusCode()).as(infer.body()).isEqualTo(200);
      JsonNode out = JSON.readTree(infer.body()).get("outputs").get(0);
      assertThat(out.get("name").asText()).isEqualTo("embedding");
      assertThat(JSON.readTree(infer.body()).get("outputs").get(1).get("data").toString())
          .isEqualTo("[4,5]");
      assertThat(out.get("shape").toString()).isEqualTo("[2,384]");
      // The int8 model quantizes activations per call, so compare with the same two texts.
      float[][] pair = s.modelServer().embed(AllMiniLmL6V2.NAME,
          List.of("hello world", "a second sentence"));
      for (int i = 0; i < 768; i++) {
        assertThat(out.get("data").get(i).floatValue())
            .isCloseTo(pair[i / 384][i % 384], Offset.offset(1e-5f));
      }
    }
  }

  @Test
  void aFailedModelShowsItsCauseOverHttpWhileTheOthersServe() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    RepositoryTest.version(repo, "good", 1);
    Files.writeString(Files.createDirectories(repo.resolve("broken/1")).resolve("model.onnx"),
        "not an onnx model");
    Files.writeString(repo.resolve("broken/model.yaml"), "required-for-readiness: false\n");
    // model.yaml's postprocessing, with a labels file beside it, applies to every native request.
    RepositoryTest.version(repo, "ranked", 1);
    Files.writeString(repo.resolve("ranked/labels.txt"), "cat\ndog\nbird\n");
    Files.writeString(repo.resolve("ranked/model.yaml"),
        "postprocessing: {softmax: true, top_k: 2, labels_file: labels.txt}\n");
    Path key = Files.writeString(tmp.resolve("key"), "s3cret\n");

    try (StandaloneServer s = StandaloneServer.start(options(repo, tmp.resolve("c"), key))) {
      String base = "http://127.0.0.1:" + s.port();
      assertThat(send("GET", base + "/health", null, null).statusCode()).isEqualTo(200);
      assertThat(send("GET", base + "/ready", null, null).statusCode()).isEqualTo(200);
      assertThat(send("GET", base + "/api/models", null, null).statusCode()).isEqualTo(401);

      JsonNode models = JSON.readTree(send("GET", base + "/api/models", null, "s3cret").body())
          .get("models");
      JsonNode broken = null;
      for (JsonNode m : models) {
        if (m.get("name").asText().equals("broken")) {
          broken = m.get("versions").get(0);
        }
      }
      assertThat(broken).isNotNull();
      assertThat(broken.get("state").asText()).isEqualTo("FAILED");
      assertThat(broken.get("failure").asText()).contains("Protobuf parsing failed");

      assertThat(send("GET", base + "/models", null, "s3cret").body())
          .contains("\"name\":\"broken\"").contains("\"state\":\"FAILED\"");
      HttpResponse<String> predict = send("POST", base + "/api/predict",
          "{\"model\": \"good\", \"inputs\": [[0.5, -1.0, 2.0, 0.25]]}", "s3cret");
      assertThat(predict.statusCode()).as(predict.body()).isEqualTo(200);
      assertThat(JSON.readTree(predict.body()).get("outputs").get(0).get(0).floatValue())
          .isCloseTo(RepositoryTest.Y[0], Offset.offset(1e-4f));

      HttpResponse<String> ranked = send("POST", base + "/api/predict",
          "{\"model\": \"ranked\", \"inputs\": [[0.5, -1.0, 2.0, 0.25]]}", "s3cret");
      assertThat(ranked.statusCode()).as(ranked.body()).isEqualTo(200);
      JsonNode top = JSON.readTree(ranked.body()).get("outputs").get(0);
      assertThat(top).hasSize(2);
      int best = 0;
      for (int i = 1; i < RepositoryTest.Y.length; i++) {
        best = RepositoryTest.Y[i] > RepositoryTest.Y[best] ? i : best;
      }
      assertThat(top.get(0).get("index").asInt()).isEqualTo(best);
      assertThat(top.get(0).get("label").asText())
          .isEqualTo(java.util.List.of("cat", "dog", "bird").get(best));
      assertThat(top.get(0).get("score").doubleValue()).isBetween(1.0 / 3, 1.0);

      // The model's processing is the core's: OIP answers the same top-k, as its three tensors.
      HttpResponse<String> oip = send("POST", base + "/v2/models/ranked/infer",
          "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 4], \"datatype\": \"FP32\","
              + " \"data\": [0.5, -1.0, 2.0, 0.25]}]}", "s3cret");
      assertThat(oip.statusCode()).as(oip.body()).isEqualTo(200);
      java.util.Map<String, JsonNode> byName = new java.util.HashMap<>();
      JSON.readTree(oip.body()).get("outputs").forEach(o -> byName.put(o.get("name").asText(), o));
      String y = byName.keySet().stream().filter(n -> byName.containsKey(n + ".scores"))
          .findFirst().orElseThrow();
      assertThat(byName.get(y).get("datatype").asText()).isEqualTo("INT64");
      assertThat(byName.get(y).get("shape").toString()).isEqualTo("[1,2]");
      assertThat(byName.get(y).get("data").get(0).asInt()).isEqualTo(best);
      assertThat(byName.get(y + ".labels").get("data").get(0).asText())
          .isEqualTo(java.util.List.of("cat", "dog", "bird").get(best));
    }
  }
}
