package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readiness as {@code docs/operations.md} defines it, case by case on a real adapter: a required
 * model that is unloaded but loads on demand leaves it ready, a FAILED one keeps it unready only
 * when strict, a model gone from the registry is no longer required, and shutdown answers 503
 * while the listener is still open.
 */
class ReadinessTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path tmp;

  static HttpResponse<String> send(HttpAdapter a, String method, String path, String body)
      throws Exception {
    return DialectsTest.send(a, method, path, body);
  }

  static int ready(HttpAdapter a) throws Exception {
    return send(a, "GET", "/ready", null).statusCode();
  }

  private static ModelServer fake(FakeBackend backend) {
    return ModelServer.builder().backend(backend).discoverBackends(false).build();
  }

  @Test
  void aLazyModelAndOneUnloadedByItsKeepAliveLeaveTheServerReady() throws Exception {
    try (ModelServer server = fake(FakeBackend.create());
        HttpAdapter a = HttpAdapter.builder(server).port(0).requireModel("lazy")
            .requireModel("idle").build()) {
      server.registry().register("lazy", 1, Path.of("lazy.fake"));
      server.registry().configure("idle", ModelConfig.builder().keepAlive(Duration.ZERO).build());
      server.registry().load("idle", 1, Path.of("idle.fake")).join();
      a.start();
      assertThat(ready(a)).isEqualTo(200);
      assertThat(send(a, "POST", "/api/predict", "{\"model\":\"idle\",\"inputs\":[[1,2,3,4]]}")
          .statusCode()).isEqualTo(200);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (server.registry().registered().stream().noneMatch(s -> s.name().equals("idle"))) {
        assertThat(System.nanoTime() - deadline).as("idle unloads").isNegative();
        Thread.sleep(10);
      }
      assertThat(server.registry().versions("idle")).isEmpty();
      assertThat(ready(a)).isEqualTo(200);
    }
  }

  @Test
  void anExplicitUnloadOrARemovedModelIsNoLongerRequired() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("models"));
    try (ModelServer server = fake(FakeBackend.create());
        HttpAdapter a = HttpAdapter.builder(server).port(0).management(root)
            .requireModel("unloaded").requireModel("removed").build()) {
      a.start();
      // Not known yet: waited for.
      var waiting = send(a, "GET", "/ready", null);
      assertThat(waiting.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(waiting.body()).get("waiting").toString())
          .isEqualTo("[\"unloaded\",\"removed\"]");
      server.registry().load("unloaded", 1, Path.of("u.fake")).join();
      server.registry().load("removed", 1, Path.of("r.fake")).join();
      assertThat(ready(a)).isEqualTo(200);

      assertThat(send(a, "DELETE", "/models/unloaded", null).statusCode()).isEqualTo(200);
      assertThat(server.registry().versions("unloaded")).isEmpty();
      assertThat(ready(a)).isEqualTo(200);
      // What the repository does when a model's folder goes away.
      server.registry().unload("removed").join();
      assertThat(ready(a)).isEqualTo(200);
      // Back again, it counts again: loading, it is waited for.
      server.registry().load("removed", 2, Path.of("r.fake")).join();
      assertThat(ready(a)).isEqualTo(200);
    }
  }

  @Test
  void aModelThatFailedKeepsTheServerUnreadyOnlyWhenStrict() throws Exception {
    FakeBackend failing = FakeBackend.builder().loadFailure(
        s -> s.fileName().startsWith("bad"),
        () -> new IOException("truncated file")).build();
    try (ModelServer server = fake(failing);
        HttpAdapter strict = HttpAdapter.builder(server).port(0).requireModel("bad")
            .requireModel("good").build();
        HttpAdapter lenient = HttpAdapter.builder(server).port(0).requireModel("bad")
            .requireModel("good").strictReadiness(false).build()) {
      server.registry().load("good", 1, Path.of("good.fake")).join();
      server.registry().load("bad", 1, Path.of("bad.fake")).handle((s, e) -> null).join();
      strict.start();
      lenient.start();
      var unready = send(strict, "GET", "/ready", null);
      assertThat(unready.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(unready.body()).get("waiting").toString()).isEqualTo("[\"bad\"]");
      assertThat(send(strict, "GET", "/v2/health/ready", null).statusCode()).isEqualTo(503);
      assertThat(ready(lenient)).isEqualTo(200);
      assertThat(send(lenient, "GET", "/v2/health/ready", null).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void duringShutdownReadinessAnswers503UntilTheListenerCloses() throws Exception {
    try (ModelServer server = fake(FakeBackend.builder().cost(Duration.ofMillis(1500)).build())) {
      server.registry().configure("slow", ModelConfig.builder().warmup(false).build());
      server.registry().load("slow", 1, Path.of("slow.fake")).join();
      HttpAdapter a = HttpAdapter.builder(server).port(0).requireModel("slow")
          .gracePeriod(Duration.ofSeconds(10)).build();
      a.start();
      var inFlight = CLIENT.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + a.port() + "/api/predict")).POST(HttpRequest.BodyPublishers.ofString(
              "{\"model\":\"slow\",\"inputs\":[[1,2,3,4]]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      awaitInFlight(server);
      CompletableFuture<Void> closing = CompletableFuture.runAsync(a::close);
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      HttpResponse<String> probe = send(a, "GET", "/ready", null);
      while (probe.statusCode() == 200 && System.nanoTime() < deadline) {
        probe = send(a, "GET", "/ready", null);
      }
      assertThat(probe.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(probe.body()).get("status").asText()).isEqualTo("shutting down");
      assertThat(send(a, "GET", "/health", null).statusCode()).isEqualTo(200);
      var refused = send(a, "POST", "/api/predict", "{\"model\":\"slow\",\"inputs\":[[1,2,3,4]]}");
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.body()).contains("shutting down");
      assertThat(inFlight.get().statusCode()).isEqualTo(200);
      closing.get();
      assertThat(a.requestsCut()).isZero();
    }
  }

  @Test
  void aShutdownWhoseGraceRunsOutAnswers503ToWhatItCuts() throws Exception {
    try (ModelServer server = fake(FakeBackend.builder().cost(Duration.ofMillis(1500)).build())) {
      server.registry().configure("slow", ModelConfig.builder().warmup(false).build());
      server.registry().load("slow", 1, Path.of("slow.fake")).join();
      HttpAdapter a = HttpAdapter.builder(server).port(0)
          .gracePeriod(Duration.ofMillis(200)).build();
      a.start();
      var inFlight = CLIENT.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + a.port() + "/api/predict")).POST(HttpRequest.BodyPublishers.ofString(
              "{\"model\":\"slow\",\"inputs\":[[1,2,3,4]]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      awaitInFlight(server);
      long t0 = System.nanoTime();
      a.close();
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
      var cut = inFlight.get();
      assertThat(cut.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(cut.body()).get("error").asText()).contains("grace period");
      assertThat(a.requestsCut()).isEqualTo(1);
    }
  }

  /** Gives the request sent just now time to reach the slow model (it stays there 1.5 s+). */
  private static void awaitInFlight(ModelServer unused) throws InterruptedException {
    Thread.sleep(300);
  }
}
