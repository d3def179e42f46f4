package dev.modserv.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelRegistry;
import dev.modserv.core.ModelState;
import dev.modserv.core.Readiness;
import dev.modserv.testkit.TinyLlama;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The models the tests serve, and a real HTTP client. */
final class Fixtures {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).build();
  /** x [-1, 4] -> y [-1, 3]; its reference outputs are in references.json beside it. */
  static final Path MLP =
      Path.of(System.getProperty("modserv.onnx.models"), "mlp.onnx").normalize();
  static final Path REFERENCES =
      Path.of(System.getProperty("modserv.onnx.models"), "references.json");
  /** The int8 all-MiniLM-L6-v2 folder (model and tokenizer), from its Maven artifact. */
  static final Path MINILM = Path.of(System.getProperty("modserv.minilm"));
  private static Path gguf;

  private Fixtures() {}

  /** A generated GGUF chat model (random weights), written once per test JVM. */
  static synchronized Path gguf() {
    if (gguf == null) {
      try {
        Path dir = Files.createTempDirectory("modserv-spring");
        dir.toFile().deleteOnExit();
        gguf = TinyLlama.builder().build().write(dir.resolve("tiny.gguf"));
        gguf.toFile().deleteOnExit();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return gguf;
  }

  static JsonNode references() throws IOException {
    return JSON.readTree(REFERENCES.toFile()).get("mlp");
  }

  static HttpResponse<String> send(int port, String method, String path, String body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(60));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body));
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Waits until every required model can be served. */
  static void awaitReady(Readiness readiness) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (!readiness.ready()) {
      assertThat(System.nanoTime() - deadline).as("models ready; waiting for %s",
          readiness.waiting()).isNegative();
      Thread.sleep(20);
    }
  }

  /** Waits until {@code model} has a READY version. */
  static void awaitReady(ModelRegistry registry, String model) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (registry.versions(model).stream().noneMatch(s -> s.state() == ModelState.READY)) {
      assertThat(System.nanoTime() - deadline).as("%s ready: %s", model,
          registry.versions(model)).isNegative();
      Thread.sleep(20);
    }
  }

  /** The rows of a JSON array of arrays, flattened. */
  static List<Double> flat(JsonNode rows) {
    List<Double> out = new java.util.ArrayList<>();
    rows.forEach(r -> {
      if (r.isArray()) {
        out.addAll(flat(r));
      } else {
        out.add(r.asDouble());
      }
    });
    return out;
  }
}
