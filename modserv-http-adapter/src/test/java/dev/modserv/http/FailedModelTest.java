package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A model whose only version failed to load: its requests fail for good with the load's cause
 * (not the retryable 503 of a model still loading), and the client dialects' model lists leave it
 * out while the native list shows its state.
 */
class FailedModelTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static ModelServer server;
  static HttpAdapter http;

  @BeforeAll
  static void start() {
    server = ModelServer.builder().backend(FakeBackend.builder()
            .loadFailure(s -> s.location().toString().startsWith("broken"),
                () -> new IOException("truncated file")).build())
        .discoverBackends(false).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    server.registry().load("broken", 1, Path.of("broken.fake")).exceptionally(x -> null).join();
    http = HttpAdapter.builder(server).port(0).build();
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

  @Test
  void requestToAFailedModelIsNotRetryableAndNamesTheCause() throws Exception {
    // Named inputs: a model never loaded has no metadata to name an unnamed array's input.
    var r = send("POST", "/api/predict",
        "{\"model\":\"broken\",\"inputs\":{\"x\":[[1,2,3,4]]}}");
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(r.headers().firstValue("Retry-After")).isEmpty();
    assertThat(JSON.readTree(r.body()).get("error").asText())
        .contains("version 1 of 'broken' is FAILED").contains("truncated file");
    assertThat(send("POST", "/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}")
        .statusCode()).isEqualTo(200);
  }

  @Test
  void clientModelListsLeaveAFailedModelOutAndTheNativeListShowsItsState() throws Exception {
    assertThat(names(JSON.readTree(send("GET", "/v1/models", null).body()).get("data"), "id"))
        .containsExactly("iris");
    assertThat(names(JSON.readTree(send("GET", "/api/tags", null).body()).get("models"), "name"))
        .containsExactly("iris");

    JsonNode models = JSON.readTree(send("GET", "/api/models", null).body()).get("models");
    JsonNode broken = null;
    for (JsonNode m : models) {
      if (m.get("name").asText().equals("broken")) {
        broken = m.get("versions").get(0);
      }
    }
    assertThat(broken).isNotNull();
    assertThat(broken.get("state").asText()).isEqualTo("FAILED");
    assertThat(broken.get("failure").asText()).contains("truncated file");
  }

  private static List<String> names(JsonNode array, String field) {
    List<String> out = new ArrayList<>();
    array.forEach(m -> out.add(m.get(field).asText()));
    return out;
  }
}
