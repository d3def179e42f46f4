package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.core.ModelServer;
import dev.modserv.http.HttpAdapter;
import dev.modserv.llama.LlamaBackend;
import dev.modserv.llama.internal.WorkerModel;
import dev.modserv.spi.Backend;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.TinyLlama;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A llama worker killed under {@code /v1/chat/completions} traffic is restarted on a thread of its
 * own, never on the Jetty thread that found it dead: requests meanwhile get 503 with Retry-After at
 * once, and requests after the restart succeed.
 */
class LlamaWorkerRestartTest {
  @TempDir Path dir;

  /** The llama engine, keeping what it loaded so that the test can reach the worker. */
  static final class Recording implements Backend {
    final LlamaBackend llama = new LlamaBackend();
    final List<LoadedModel> loaded = new CopyOnWriteArrayList<>();

    @Override
    public String name() {
      return llama.name();
    }

    @Override
    public boolean supports(ModelSource source) {
      return llama.supports(source);
    }

    @Override
    public LoadedModel load(ModelSource source) throws Exception {
      LoadedModel m = llama.load(source);
      loaded.add(m);
      return m;
    }
  }

  @Test
  void aKilledWorkerRestartsOffTheJettyThreadsAndServesAgain() throws Exception {
    Path gguf = TinyLlama.builder().build().write(dir.resolve("tiny.gguf"));
    Recording engine = new Recording();
    try (ModelServer server = ModelServer.builder().backend(engine).build()) {
      server.registry().load("tiny", 1, new ModelSource(gguf, Map.of(
          "context-size", "2048", "parallel", "2", "threads", "1"))).join();
      WorkerModel model = (WorkerModel) engine.loaded.get(0);
      try (HttpAdapter http = HttpAdapter.builder(server).port(0).host("127.0.0.1").build()) {
        http.start();
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest chat = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + http.port() + "/v1/chat/completions"))
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"tiny\",\"max_tokens\":8,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
            .build();
        assertThat(client.send(chat, HttpResponse.BodyHandlers.ofString()).statusCode())
            .isEqualTo(200);

        // Traffic in the background while the worker is killed.
        List<Integer> background = new CopyOnWriteArrayList<>();
        Thread traffic = Thread.ofPlatform().start(() -> {
          while (!Thread.currentThread().isInterrupted()) {
            try {
              background.add(client.send(chat, HttpResponse.BodyHandlers.ofString())
                  .statusCode());
            } catch (Exception e) {
              return;
            }
          }
        });
        long pid = model.workerPid();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();

        List<Integer> statuses = new CopyOnWriteArrayList<>();
        boolean sawRetryAfter = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        int last = 0;
        while (last != 200 && System.nanoTime() < deadline) {
          HttpResponse<String> r = client.send(chat, HttpResponse.BodyHandlers.ofString());
          last = r.statusCode();
          statuses.add(last);
          if (last == 503) {
            sawRetryAfter |= r.headers().firstValue("Retry-After").isPresent();
            Thread.sleep(20);
          }
        }
        traffic.interrupt();
        traffic.join(TimeUnit.SECONDS.toMillis(60));

        assertThat(last).as("statuses after the kill: %s", statuses).isEqualTo(200);
        assertThat(statuses).as("a dead worker fails in-flight (500) or refuses at once (503)")
            .allMatch(s -> s == 200 || s == 500 || s == 503);
        assertThat(statuses).as("requests during the restart were refused at once")
            .contains(503);
        assertThat(sawRetryAfter).isTrue();
        assertThat(background).allMatch(s -> s == 200 || s == 500 || s == 503);
        assertThat(model.restarts()).isEqualTo(1);
        assertThat(model.lastRestartThread()).isEqualTo("modserv-llama-restart-tiny.gguf");
        assertThat(model.workerPid()).isPositive().isNotEqualTo(pid);
        for (int i = 0; i < 3; i++) {
          assertThat(client.send(chat, HttpResponse.BodyHandlers.ofString()).statusCode())
              .isEqualTo(200);
        }
      }
    }
  }
}
