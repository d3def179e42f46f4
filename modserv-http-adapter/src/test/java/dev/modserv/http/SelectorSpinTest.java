package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelState;
import dev.modserv.testkit.FakeBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The selector's poll before it sleeps: bounded, and requests answered with it off or long. */
class SelectorSpinTest {
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).build();

  @Test
  void theSpinIsBoundedAndChosenOnce() {
    try (ModelServer server = ModelServer.builder().discoverBackends(false).build()) {
      assertThatThrownBy(() -> HttpAdapter.builder(server).selectorSpin(Duration.ofNanos(-1)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("selectorSpin");
      assertThatThrownBy(() -> HttpAdapter.builder(server).selectorSpin(Duration.ofMillis(11)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0..10ms");
      HttpAdapter.Builder b = HttpAdapter.builder(server).selectorSpin(Duration.ofMillis(10));
      assertThatThrownBy(() -> b.selectorSpin(Duration.ZERO))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 50, 10_000})
  void requestsOneAfterAnotherAreAnswered(long spinMicros) throws Exception {
    try (ModelServer server = ModelServer.builder().backend(FakeBackend.create())
        .discoverBackends(false).build()) {
      assertThat(server.registry().load("m", 1, Path.of("m.fake")).join().state())
          .isEqualTo(ModelState.READY);
      try (HttpAdapter http = HttpAdapter.builder(server).port(0)
          .selectorSpin(Duration.ofNanos(spinMicros * 1000)).build()) {
        http.start();
        predictOneAfterAnother(http.port(), 50);
      }
    }
  }

  /** Sends {@code requests} predictions of the fake model "m" in turn; each must be answered. */
  static void predictOneAfterAnother(int port, int requests) throws Exception {
    for (int i = 0; i < requests; i++) {
      HttpResponse<String> response = CLIENT.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + port + "/api/predict"))
              .timeout(Duration.ofSeconds(20))
              .POST(HttpRequest.BodyPublishers.ofString(
                  "{\"model\":\"m\",\"inputs\":[[" + i + ",1,2,3]]}"))
              .header("Content-Type", "application/json").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(response.body()).contains("\"outputs\":[[" + 2.0 * i + ",2.0,4.0,6.0]]");
    }
  }
}
