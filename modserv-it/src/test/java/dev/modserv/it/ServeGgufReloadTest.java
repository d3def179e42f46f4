package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.testkit.TinyLlama;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code modserv serve} as a separate process on generated GGUFs that change under it: versions
 * added and removed under polling while clients stream, and a memory budget smaller than two
 * models. Streams go over Ollama's NDJSON {@code /api/chat} with the JDK's HTTP client.
 */
class ServeGgufReloadTest {
  /** Tokens of a long stream: long enough to be running when the server acts on a change. */
  private static final int LONG = 900;

  @TempDir Path dir;

  /** What one streamed chat gave: its text, Ollama's eval_count and whether "done" came. */
  record Streamed(int status, String text, int evalCount, boolean done) {
    boolean complete(int tokens) {
      return status == 200 && done && evalCount == tokens;
    }
  }

  /** A stream whose first line has come; {@code rest} completes when its last has. */
  record Running(CompletableFuture<Streamed> rest) {}

  private static String chat(String model, int tokens) {
    return "{\"model\": \"" + model + "\", \"stream\": true, \"messages\": [{\"role\": \"user\","
        + " \"content\": \"hi\"}], \"options\": {\"temperature\": 0, \"seed\": 3,"
        + " \"num_predict\": " + tokens + "}}";
  }

  /** Starts a streamed chat and returns once its first line has come (or it failed). */
  private static Running startStream(ServeProcess server, String model, int tokens)
      throws Exception {
    HttpResponse<InputStream> response = ServeProcess.HTTP.send(server.postRequest("/api/chat",
        chat(model, tokens)), HttpResponse.BodyHandlers.ofInputStream());
    BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(),
        StandardCharsets.UTF_8));
    StringBuilder text = new StringBuilder();
    String first = lines.readLine();
    CompletableFuture<Streamed> rest = CompletableFuture.supplyAsync(() -> {
      try (lines) {
        int evalCount = -1;
        boolean done = false;
        for (String line = first; line != null; line = lines.readLine()) {
          if (response.statusCode() != 200) {
            text.append(line);
            continue;
          }
          JsonNode chunk = ServeProcess.JSON.readTree(line);
          text.append(chunk.path("message").path("content").asText(""));
          if (chunk.path("done").asBoolean()) {
            done = true;
            evalCount = chunk.path("eval_count").asInt(-1);
          }
        }
        return new Streamed(response.statusCode(), text.toString(), evalCount, done);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    return new Running(rest);
  }

  private static Streamed stream(ServeProcess server, String model, int tokens) throws Exception {
    return startStream(server, model, tokens).rest().get(2, TimeUnit.MINUTES);
  }

  private static Path gguf(Path file, long seed) throws Exception {
    Files.createDirectories(file.getParent());
    return TinyLlama.builder().seed(seed).context(4096).build().write(file);
  }

  @Test
  void addingAVersionServesItWithNoFailedStreamAndRemovingItDrainsItsStreams() throws Exception {
    Path repo = dir.resolve("repo");
    gguf(repo.resolve("tiny/1/tiny.gguf"), 1);
    Files.writeString(repo.resolve("tiny/model.yaml"),
        "engine-options:\n  context-size: 4096\n  parallel: 4\n");
    try (ServeProcess server = ServeProcess.start(dir, "--model-repository", repo.toString(),
        "--poll-interval", "100ms")) {
      int tokens = 16;
      String first = stream(server, "tiny", tokens).text();

      // Four clients stream in a loop while version 2 comes in.
      AtomicBoolean stop = new AtomicBoolean();
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      Set<String> texts = ConcurrentHashMap.newKeySet();
      List<Thread> clients = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        clients.add(Thread.ofPlatform().start(() -> {
          while (!stop.get()) {
            try {
              Streamed s = stream(server, "tiny", tokens);
              if (s.complete(tokens)) {
                texts.add(s.text());
              } else {
                failures.add(s.toString());
              }
            } catch (Exception e) {
              failures.add(e.toString());
            }
          }
        }));
      }
      // Written aside and renamed in, as docs/concepts.md advises.
      gguf(repo.resolve(".2.tmp/tiny.gguf"), 2);
      Files.move(repo.resolve(".2.tmp"), repo.resolve("tiny/2"));
      server.awaitState("tiny", 2, "READY");
      // The default version policy, latest, drains version 1 once 2 is ready.
      server.awaitState("tiny", 1, "UNLOADED", "ABSENT");
      long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
      while (texts.stream().allMatch(first::equals) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      stop.set(true);
      for (Thread t : clients) {
        t.join();
      }
      assertThat(failures).isEmpty();
      String second = stream(server, "tiny", tokens).text();
      assertThat(second).isNotEqualTo(first);
      assertThat(texts).containsExactlyInAnyOrder(first, second);

      // Removing version 2 while four long streams run on it: they finish to the end.
      List<Running> running = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        running.add(startStream(server, "tiny", LONG));
      }
      for (Path p : List.of(repo.resolve("tiny/2/tiny.gguf"), repo.resolve("tiny/2"))) {
        Files.delete(p);
      }
      server.awaitState("tiny", 2, "DRAINING", "UNLOADED", "ABSENT");
      boolean drainedWhileStreaming = running.stream().anyMatch(r -> !r.rest().isDone());
      for (Running r : running) {
        Streamed s = r.rest().get(2, TimeUnit.MINUTES);
        assertThat(s.complete(LONG)).as(s.toString()).isTrue();
      }
      assertThat(drainedWhileStreaming).as("a stream still ran when version 2 was draining")
          .isTrue();
      // Version 1, again the latest folder, loads back and serves what it served before.
      server.awaitState("tiny", 1, "READY");
      assertThat(stream(server, "tiny", tokens).text()).isEqualTo(first);
    }
  }

  @Test
  void aMemoryBudgetForOneModelUnloadsTheIdleOneButNeverOneThatStreams() throws Exception {
    Path repo = dir.resolve("repo");
    Path a = gguf(repo.resolve("a/1/a.gguf"), 1);
    gguf(repo.resolve("b/1/b.gguf"), 2);
    int context = 2048;
    for (String model : List.of("a", "b")) {
      Files.writeString(repo.resolve(model + "/model.yaml"),
          "engine-options:\n  context-size: " + context + "\n");
    }
    // docs/llama.md: file bytes + layers × context × KV heads × (key + value width) × 2 bytes
    long weight = Files.size(a) + 2L * context * 4 * (16 + 16) * 2;
    try (ServeProcess server = ServeProcess.start(dir, "--model-repository", repo.toString(),
        "--max-loaded-memory", Long.toString(weight * 3 / 2), "--no-strict-readiness")) {
      assertThat(stream(server, "a", 4).complete(4)).isTrue();
      assertThat(stream(server, "b", 4).complete(4)).isTrue();
      assertThat(loaded(server)).containsExactly("b");
      server.awaitState("a", 1, "UNLOADED", "ABSENT");
      assertThat(server.output).anyMatch(l -> l.contains("unloading idle 'a' version 1"));

      Running onB = startStream(server, "b", LONG);
      // docs/batching.md: a model that does not fit with every idle version gone is refused
      // with INSUFFICIENT_MEMORY, 507, before it loads.
      HttpResponse<String> refused = server.post("/api/chat", chat("a", 4).replace(
          "\"stream\": true", "\"stream\": false"));
      boolean bStillStreaming = !onB.rest().isDone();
      assertThat(refused.statusCode()).as(refused.body()).isEqualTo(507);
      assertThat(refused.body()).contains("budget");
      Streamed b = onB.rest().get(2, TimeUnit.MINUTES);
      assertThat(b.complete(LONG)).as(b.toString()).isTrue();
      assertThat(bStillStreaming).as("b still streamed when a was refused").isTrue();
      assertThat(loaded(server)).containsExactly("b");
      // Idle again, b makes room for a.
      assertThat(stream(server, "a", 4).complete(4)).isTrue();
      assertThat(loaded(server)).containsExactly("a");
    }
  }

  /** The names {@code /api/ps} lists: the loaded models. */
  private static List<String> loaded(ServeProcess server) throws Exception {
    List<String> names = new ArrayList<>();
    ServeProcess.JSON.readTree(server.get("/api/ps").body()).get("models")
        .forEach(m -> names.add(m.get("name").asText()));
    return names;
  }
}
