package dev.modserv.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's run command, {@code ./modserv serve}, as written, from the repository root (after
 * {@code package}, so the launcher finds the jar just built): it starts on the default model, answers
 * {@code /api/predict} and an OIP v2 text embedding, and exits 0 on SIGTERM after a clean stop.
 */
class LauncherIT {
  private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path cache;

  @Test
  void readmeRunCommandServesTheDefaultModelAndStopsCleanlyOnSigterm() throws Exception {
    Path root = Path.of(System.getProperty("modserv.repo.root", "..")).toAbsolutePath().normalize();
    // The command in the README's "Run it" block, word for word.
    String readme = java.nio.file.Files.readString(root.resolve("README.md"));
    int block = readme.indexOf("```", readme.indexOf("## Run it"));
    String command = readme.substring(block + 3, readme.indexOf("```", block + 3)).strip();
    assertThat(command).isEqualTo("./modserv serve");
    ProcessBuilder pb = new ProcessBuilder(command.split(" ")).directory(root.toFile())
        .redirectErrorStream(true);
    // Port 0 and loopback so parallel builds do not collide; the rest is the default set-up.
    pb.environment().put("MODSERV_PORT", "0");
    pb.environment().put("MODSERV_HOST", "127.0.0.1");
    pb.environment().put("MODSERV_CACHE_DIR", cache.toString());
    // The jar under test is the one this build has just packaged: no rebuild, even if a source
    // was touched while the build ran (a Maven run inside this one would race it).
    pb.environment().put("MODSERV_NO_BUILD", "1");
    // The JDK running this test is one the launcher accepts (>= 21); elsewhere it searches.
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process p = pb.start();
    List<String> out = Collections.synchronizedList(new ArrayList<>());
    Thread reader = Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          out.add(line);
        }
      } catch (java.io.IOException e) {
        out.add("(reading the output failed: " + e + ")");
      }
    });
    try {
      int port = awaitPort(p, out);
      String base = "http://127.0.0.1:" + port;
      HttpClient http = HttpClient.newHttpClient();
      awaitReady(http, base, p, out);

      HttpResponse<String> predict = http.send(HttpRequest.newBuilder(URI.create(base
          + "/api/predict")).POST(HttpRequest.BodyPublishers.ofString("{\"model\": "
          + "\"all-minilm-l6-v2\", \"inputs\": {\"text\": [\"hello world\"]}}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(predict.statusCode()).as(predict.body()).isEqualTo(200);
      // Two outputs, so named: the vectors and the tokens each text took.
      JsonNode outputs = JSON.readTree(predict.body()).get("outputs");
      assertThat(outputs.get("tokens").get(0).asInt()).isEqualTo(4);
      JsonNode row = outputs.get("embedding").get(0);
      assertThat(row.size()).isEqualTo(384);
      double norm = 0;
      for (JsonNode v : row) {
        norm += v.doubleValue() * v.doubleValue();
      }
      assertThat(Math.sqrt(norm)).isGreaterThan(0.1);

      HttpResponse<String> embed = http.send(HttpRequest.newBuilder(URI.create(base
          + "/v2/models/all-minilm-l6-v2/infer")).POST(HttpRequest.BodyPublishers.ofString(
          "{\"inputs\": [{\"name\": \"text\", \"shape\": [3], \"datatype\": \"BYTES\", \"data\":"
              + " [\"a cat\", \"a kitten\", \"stock prices fell\"]}]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(embed.statusCode()).as(embed.body()).isEqualTo(200);
      JsonNode data = JSON.readTree(embed.body()).get("outputs").get(0).get("data");
      assertThat(data.size()).isEqualTo(3 * 384);
      // Meaning shows: "a cat" is nearer "a kitten" than "stock prices fell".
      assertThat(cosine(data, 0, 1)).isGreaterThan(cosine(data, 0, 2));

      HttpResponse<String> openAi = http.send(HttpRequest.newBuilder(URI.create(base
          + "/v1/embeddings")).POST(HttpRequest.BodyPublishers.ofString(
          "{\"model\": \"all-minilm-l6-v2\", \"input\": \"hello world\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(openAi.statusCode()).as(openAi.body()).isEqualTo(200);
      JsonNode vector = JSON.readTree(openAi.body()).get("data").get(0).get("embedding");
      assertThat(vector.size()).isEqualTo(384);
      for (int i = 0; i < 384; i++) {
        assertThat(vector.get(i).floatValue()).isEqualTo(row.get(i).floatValue());
      }

      assertThat(out).anyMatch(l -> l.contains("try: curl -s http://127.0.0.1:" + port
          + "/api/predict"));
      // kill -TERM, as Kubernetes and systemd stop it (Process.destroy would close our end of
      // its output first).
      assertThat(new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor())
          .isZero();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exited within 60 s").isTrue();
      reader.join(5000);
      assertThat(p.exitValue()).as(String.join("\n", out)).isZero();
      assertThat(out).anyMatch(l -> l.contains("SIGTERM received"));
      assertThat(out).anyMatch(l -> l.contains("stopped in"));
      assertThat(out).noneMatch(l -> l.contains("Exception"));
    } finally {
      p.destroyForcibly();
    }
  }

  /**
   * The README's GGUF quick start, {@code ./modserv serve --model NAME=PATH}, on a generated GGUF:
   * the launcher's jar carries the llama engine; the model warms up and answers an OpenAI chat.
   */
  @Test
  void modelOptionServesAGgufThroughTheLauncher() throws Exception {
    Path root = Path.of(System.getProperty("modserv.repo.root", "..")).toAbsolutePath().normalize();
    Path gguf = dev.modserv.testkit.TinyLlama.builder().build().write(cache.resolve("tiny.gguf"));
    ProcessBuilder pb = new ProcessBuilder("./modserv", "serve", "--model", "chat=" + gguf)
        .directory(root.toFile()).redirectErrorStream(true);
    pb.environment().put("MODSERV_PORT", "0");
    pb.environment().put("MODSERV_HOST", "127.0.0.1");
    pb.environment().put("MODSERV_CACHE_DIR", cache.toString());
    pb.environment().put("MODSERV_NO_BUILD", "1");
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process p = pb.start();
    List<String> out = Collections.synchronizedList(new ArrayList<>());
    Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          out.add(line);
        }
      } catch (java.io.IOException e) {
        out.add("(reading the output failed: " + e + ")");
      }
    });
    try {
      String base = "http://127.0.0.1:" + awaitPort(p, out);
      HttpClient http = HttpClient.newHttpClient();
      awaitReady(http, base, p, out);
      HttpResponse<String> chat = http.send(HttpRequest.newBuilder(URI.create(base
          + "/v1/chat/completions")).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"chat\", \"messages\": [{\"role\":"
              + " \"user\", \"content\": \"hi\"}], \"max_tokens\": 5}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
      assertThat(JSON.readTree(chat.body()).get("usage").get("completion_tokens").asInt())
          .isEqualTo(5);
      assertThat(out).anyMatch(l -> l.contains("engines: llama"));
      assertThat(out).anyMatch(l -> l.contains("chat v1: READY") && l.contains("warm-up"));
    } finally {
      p.destroyForcibly();
    }
  }

  private static double cosine(JsonNode data, int a, int b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < 384; i++) {
      double x = data.get(a * 384 + i).doubleValue();
      double y = data.get(b * 384 + i).doubleValue();
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    return dot / Math.sqrt(na * nb);
  }

  private static int awaitPort(Process p, List<String> out) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (System.nanoTime() < deadline) {
      synchronized (out) {
        for (String line : out) {
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            return Integer.parseInt(m.group(1));
          }
        }
      }
      if (!p.isAlive()) {
        throw new AssertionError("./modserv serve exited with " + p.exitValue() + ":\n"
            + String.join("\n", out));
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no 'listening on' line within 5 minutes:\n" + String.join("\n", out));
  }

  private static void awaitReady(HttpClient http, String base, Process p, List<String> out)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/ready"))
          .build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) {
        return;
      }
      if (!p.isAlive()) {
        throw new AssertionError("exited:\n" + String.join("\n", out));
      }
      Thread.sleep(100);
    }
    throw new AssertionError("not ready within 2 minutes:\n" + String.join("\n", out));
  }
}
