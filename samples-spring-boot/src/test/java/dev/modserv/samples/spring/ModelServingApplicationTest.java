package dev.modserv.samples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.TinyLlama;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts the sample application as its {@code main} does, on a free port, with the default
 * embedding model and a generated GGUF chat model (random weights), and calls its routes with a
 * real HTTP client.
 */
class ModelServingApplicationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  @TempDir static Path dir;
  private static ConfigurableApplicationContext app;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    Path chat = TinyLlama.builder().build().write(dir.resolve("tiny.gguf"));
    app = ModelServingApplication.run(dir.resolve("cache"), chat, "--server.port=0",
        // A small context and a fixed seed for the generated model; a slow machine's worker start.
        "--modserv.models.chat.engine-options.context-size=512",
        "--modserv.models.chat.engine-options.threads=2",
        "--modserv.models.chat.engine-options.seed=3",
        "--modserv.models.chat.engine-options.worker-start-seconds=120");
    port = app.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
    // Readiness is 503 until both models are READY.
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    HttpResponse<String> readiness;
    while ((readiness = send("GET", "/actuator/health/readiness", null)).statusCode() != 200) {
      assertThat(readiness.statusCode()).as(readiness.body()).isEqualTo(503);
      assertThat(System.nanoTime() - deadline).as("ready: %s", readiness.body()).isNegative();
      Thread.sleep(50);
    }
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  @Test
  void embeddingsAreTheDefaultModelsVectors() throws Exception {
    List<String> texts = List.of("A man is eating food.", "A man is eating pasta.");
    HttpResponse<String> r = send("POST", "/v1/embeddings",
        "{\"model\":\"minilm\",\"input\":" + JSON.writeValueAsString(texts) + "}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode data = JSON.readTree(r.body()).get("data");
    float[][] expected = app.getBean(ModelServer.class).embed("minilm", texts);
    assertThat(data.size()).isEqualTo(2);
    for (int i = 0; i < 2; i++) {
      JsonNode vector = data.get(i).get("embedding");
      assertThat(vector.size()).isEqualTo(384);
      for (int j = 0; j < vector.size(); j++) {
        assertThat(vector.get(j).asDouble()).isCloseTo(expected[i][j], within(1e-6));
      }
    }
    // The application's MeterRegistry counted it, as Actuator shows.
    HttpResponse<String> meter =
        send("GET", "/actuator/metrics/modserv.requests?tag=model:minilm", null);
    assertThat(meter.statusCode()).as(meter.body()).isEqualTo(200);
    assertThat(JSON.readTree(meter.body()).get("measurements").get(0).get("value").asDouble())
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void chatCompletionsAnswerAndStream() throws Exception {
    String request = "{\"model\":\"chat\",\"max_tokens\":6,\"seed\":3,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"Why is the sky blue?\"}]";
    HttpResponse<String> whole = send("POST", "/v1/chat/completions", request + "}");
    assertThat(whole.statusCode()).as(whole.body()).isEqualTo(200);
    JsonNode answer = JSON.readTree(whole.body());
    assertThat(answer.get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
    assertThat(answer.get("usage").get("completion_tokens").asInt()).isEqualTo(6);

    HttpResponse<String> streamed =
        send("POST", "/v1/chat/completions", request + ",\"stream\":true}");
    assertThat(streamed.statusCode()).as(streamed.body()).isEqualTo(200);
    assertThat(streamed.headers().firstValue("Content-Type").orElse(""))
        .startsWith("text/event-stream");
    List<String> events = new ArrayList<>();
    for (String line : streamed.body().split("\n")) {
      if (line.startsWith("data: ")) {
        events.add(line.substring("data: ".length()));
      }
    }
    assertThat(events).last().isEqualTo("[DONE]");
    StringBuilder content = new StringBuilder();
    for (String event : events.subList(0, events.size() - 1)) {
      content.append(JSON.readTree(event).get("choices").get(0).path("delta")
          .path("content").asText(""));
    }
    // The same seed, the same text, whole or streamed.
    assertThat(content.toString())
        .isEqualTo(answer.get("choices").get(0).get("message").get("content").asText());
  }

  private static HttpResponse<String> send(String method, String path, String body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(60));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return CLIENT.send(b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
