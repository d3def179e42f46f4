package dev.modserv.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class JettyMountExampleTest {
  @Test
  void servesTheApplicationsRouteAndModservsUnderMl() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    try (JettyMountExample app = JettyMountExample.start(0, OnnxExampleTest.MLP)) {
      String base = "http://127.0.0.1:" + app.port();
      HttpResponse<String> hello = http.send(HttpRequest.newBuilder(URI.create(base + "/"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(hello.body()).isEqualTo("hello from the application\n");

      HttpResponse<String> predict = http.send(HttpRequest.newBuilder(URI.create(base
          + "/ml/api/predict")).POST(HttpRequest.BodyPublishers.ofString(
          "{\"model\": \"mlp\", \"inputs\": [[0.5, -1.0, 2.0, 0.25]]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(predict.statusCode()).as(predict.body()).isEqualTo(200);
      assertThat(predict.body()).contains("\"outputs\":[[0.97234").contains("\"version\":1");

      HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(base
          + "/ml/v2/models/mlp/ready")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).isEqualTo(200);
    }
  }
}
