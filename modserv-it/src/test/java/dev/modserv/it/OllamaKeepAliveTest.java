package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.http.HttpAdapter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Ollama's keep_alive on the model cache: 0 unloads after the answer, negative keeps it. */
class OllamaKeepAliveTest {
  private static final Path MINILM = Path.of(System.getProperty("modserv.minilm"));

  @Test
  void keepAliveSetsTheModelsIdleTime() throws Exception {
    try (ModelServer server = ModelServer.builder().build();
        HttpAdapter http = HttpAdapter.builder(server).port(0).host("127.0.0.1").build()) {
      server.registry().load("minilm", 1, MINILM).join();
      http.start();
      HttpClient client = HttpClient.newHttpClient();
      String url = "http://127.0.0.1:" + http.port() + "/api/embed";

      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url))
          .POST(HttpRequest.BodyPublishers.ofString(
              "{\"model\":\"minilm\",\"input\":\"hi\",\"keep_alive\":\"1h30m\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(server.registry().config("minilm").keepAlive())
          .isEqualTo(Duration.ofMinutes(90));

      r = client.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers
          .ofString("{\"model\":\"minilm\",\"input\":\"hi\",\"keep_alive\":0}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (state(server) == ModelState.READY && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(state(server)).isEqualTo(ModelState.UNLOADED);

      // Used again, it loads again; a negative keep_alive keeps it from then on.
      r = client.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers
          .ofString("{\"model\":\"minilm\",\"input\":\"hi\",\"keep_alive\":\"-1m\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(new ObjectMapper().readTree(r.body()).get("embeddings").get(0)).hasSize(384);
      assertThat(server.registry().config("minilm").keepAlive()).isNegative();
      assertThat(state(server)).isEqualTo(ModelState.READY);

      r = client.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers
          .ofString("{\"model\":\"minilm\",\"input\":\"hi\",\"keep_alive\":\"soon\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(r.body()).contains("keep_alive: expected a duration");
    }
  }

  private static ModelState state(ModelServer server) {
    // Unloaded, the version may be gone from the registry's list for a moment: not loaded either.
    return server.registry().status("minilm", 1).map(ModelStatus::state)
        .orElse(ModelState.UNLOADED);
  }
}
