package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.onnx.OnnxBackend;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.SlowOnnxModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deadline that passes while ONNX Runtime runs a request: the client gets 504 at the deadline,
 * the run is terminated (between graph nodes), and the model serves the next request at once
 * instead of after the seconds the abandoned run would have taken.
 */
class RunningDeadlineHttpTest {
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  static final int WIDTH = 256;
  static final long DEADLINE_MILLIS = 400;

  @TempDir Path tmp;

  static String infer(long rows) {
    float[] x = new float[WIDTH];
    Arrays.fill(x, 2f);
    return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1," + WIDTH + "],"
        + "\"data\":" + Arrays.toString(x) + "},{\"name\":\"rows\",\"datatype\":\"INT64\","
        + "\"shape\":[1],\"data\":[" + rows + "]}]}";
  }

  static HttpResponse<String> post(HttpAdapter http, String body) throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
            + "/v2/models/slow/infer")).header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aDeadlineDuringARunningOnnxCallAnswers504AtTheDeadlineAndFreesTheModel() throws Exception {
    Path model = SlowOnnxModel.write(tmp.resolve("slow.onnx"), WIDTH, 1000);
    try (ModelServer server = ModelServer.builder().backend(new OnnxBackend())
            .discoverBackends(false).build();
        HttpAdapter http = HttpAdapter.builder(server).port(0).build()) {
      server.registry().configure("slow", ModelConfig.builder().batching(BatchingPolicy.builder()
          .defaultTimeout(Duration.ofMillis(DEADLINE_MILLIS)).build()).build());
      // One engine thread: ONNX Runtime's spinning pool would otherwise take every core of a
      // small CI machine from the timer and the connector that answer at the deadline.
      server.registry().load("slow", 1, ModelSource.of(model)
          .withOption("intra-op-threads", "1")).join();
      http.start();
      // Warm the HTTP path and the engine; measure one node's work at full size.
      assertThat(post(http, infer(1)).statusCode()).isEqualTo(200);
      long oneRowNanos = System.nanoTime();
      HttpResponse<String> small = post(http, infer(64));
      oneRowNanos = System.nanoTime() - oneRowNanos;
      assertThat(small.statusCode()).as(small.body()).isEqualTo(200);
      assertThat(small.body()).contains("\"shape\":[64," + WIDTH + "]");

      long start = System.nanoTime();
      HttpResponse<String> slow = post(http, infer(2048));
      long answeredMillis = (System.nanoTime() - start) / 1_000_000;
      assertThat(slow.statusCode()).as(slow.body()).isEqualTo(504);
      assertThat(slow.body()).contains("did not finish within its timeout of " + DEADLINE_MILLIS
          + " ms");
      assertThat(answeredMillis).as("answered at the deadline of %d ms", DEADLINE_MILLIS)
          .isBetween(DEADLINE_MILLIS - 50, DEADLINE_MILLIS + 50);

      // The terminated run gave the instance back: the next request runs now, well within its
      // own deadline, where the abandoned run (2,048 rows through 1,000 products) would take
      // seconds more.
      long next = System.nanoTime();
      HttpResponse<String> after = post(http, infer(1));
      long nextMillis = (System.nanoTime() - next) / 1_000_000;
      assertThat(after.statusCode()).as(after.body() + " after " + nextMillis + " ms (64 rows"
          + " took " + oneRowNanos / 1_000_000 + " ms)").isEqualTo(200);
      assertThat(after.body()).contains("\"data\":[2.0,");
    }
  }
}
