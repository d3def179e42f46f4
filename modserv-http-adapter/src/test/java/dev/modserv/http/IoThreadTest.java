package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/**
 * Model calls run on the thread that read the request only when they cannot hold it for long: a
 * slow model, or a policy that waits to fill batches, must not stall other connections.
 */
class IoThreadTest {
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).build();

  @Test
  void aSlowModelDoesNotStallOtherConnections() throws Exception {
    FakeBackend slow = FakeBackend.builder().cost(Duration.ofMillis(400)).build();
    try (ModelServer server = ModelServer.builder().backend(slow).discoverBackends(false).build()) {
      server.registry().load("slow", 1, Path.of("slow.fake")).join();
      assertOthersAnswerFirst(server, "slow");
    }
  }

  @Test
  void aBatchDelayDoesNotStallOtherConnections() throws Exception {
    try (ModelServer server = ModelServer.builder().backend(FakeBackend.create())
        .discoverBackends(false).build()) {
      server.registry().configure("waits", ModelConfig.builder().batching(BatchingPolicy.builder()
          .maxBatchSize(64).maxQueueDelay(Duration.ofMillis(400)).build()).build());
      server.registry().load("waits", 1, Path.of("waits.fake")).join();
      assertOthersAnswerFirst(server, "waits");
    }
  }

  @Test
  void aModelThatMustLoadAgainDoesNotStallOtherConnections() throws Exception {
    FakeBackend slowToLoad = FakeBackend.builder().loadDelay(Duration.ofMillis(400)).build();
    try (ModelServer server = ModelServer.builder().backend(slowToLoad).discoverBackends(false)
        .build()) {
      // Unloaded as soon as it is idle: the next call must load it again, which takes a while.
      server.registry().configure("lazy", ModelConfig.builder().keepAlive(Duration.ZERO).build());
      server.registry().register("lazy", 1, Path.of("lazy.fake"));
      assertOthersAnswerFirst(server, "lazy", () -> {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (server.registry().metadata(dev.modserv.api.ModelRef.of("lazy")).isPresent()
            && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
      });
    }
  }

  private static void assertOthersAnswerFirst(ModelServer server, String model) throws Exception {
    assertOthersAnswerFirst(server, model, () -> { });
  }

  /** Runs between the warming call and the burst. */
  @FunctionalInterface
  private interface Between {
    void run() throws Exception;
  }

  /**
   * Warms the model's timing with one call, then sends calls and health checks at once on twice as
   * many connections as the machine has cores (at least four; the adapter has a selector for every
   * two cores): every health check must answer before any model call does.
   */
  private static void assertOthersAnswerFirst(ModelServer server, String model, Between between)
      throws Exception {
    try (HttpAdapter http = HttpAdapter.builder(server).port(0).build()) {
      http.start();
      String body = "{\"model\":\"" + model + "\",\"inputs\":{\"x\":[[1,2,3,4]]}}";
      assertThat(call(http, "/api/predict", body).join().statusCode()).isEqualTo(200);
      // Twice: the second call learns the engine time from an inline-eligible state.
      assertThat(call(http, "/api/predict", body).join().statusCode()).isEqualTo(200);
      between.run();

      ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
      int n = Math.max(2, Runtime.getRuntime().availableProcessors()) * 2;
      List<CompletableFuture<?>> all = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        all.add(call(http, "/api/predict", body).thenAccept(r -> {
          assertThat(r.statusCode()).isEqualTo(200);
          order.add("predict");
        }));
      }
      Thread.sleep(50); // the predictions are in before the health checks
      for (int i = 0; i < n; i++) {
        all.add(call(http, "/health", null).thenAccept(r -> {
          assertThat(r.statusCode()).isEqualTo(200);
          order.add("health");
        }));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
      List<String> seen = List.copyOf(order);
      assertThat(seen.subList(0, n)).as("answers in order: %s", seen).containsOnly("health");
    }
  }

  private static CompletableFuture<HttpResponse<String>> call(HttpAdapter http, String path,
      String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + http.port() + path)).timeout(Duration.ofSeconds(20));
    if (body != null) {
      b.POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
    }
    return CLIENT.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
