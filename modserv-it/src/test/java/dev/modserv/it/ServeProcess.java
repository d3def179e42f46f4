package dev.modserv.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.server.Main;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * {@code modserv serve} started as a separate process on this test's class path, its output
 * collected line by line, with small HTTP helpers for its API.
 */
final class ServeProcess implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  final Process process;
  final ConcurrentLinkedQueue<String> output = new ConcurrentLinkedQueue<>();
  final String base;

  private ServeProcess(Process process) throws InterruptedException {
    this.process = process;
    Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          output.add(line);
          System.out.println("server: " + line);
        }
      } catch (IOException | UncheckedIOException e) {
        output.add("(reading ended: " + e + ")");
      }
    });
    this.base = "http://127.0.0.1:" + awaitPort();
  }

  /**
   * Starts {@code serve --host 127.0.0.1 --port 0} with {@code args}, its files in {@code dir},
   * and returns once the startup summary is out: every model at start has loaded or failed.
   */
  static ServeProcess start(Path dir, String... args) throws Exception {
    String classPath = String.join(File.pathSeparator, System.getProperty("java.class.path"),
        System.getProperty("jdk.module.path", ""));
    // In an argument file: ONNX Runtime crashes a JVM whose command line is over ~4 KB.
    Path argFile = Files.writeString(dir.resolve("java.args"), "-cp\n\"" + classPath
        .replace("\\", "\\\\") + "\"\n");
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"),
        "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED", "@" + argFile,
        Main.class.getName(), "serve", "--host", "127.0.0.1", "--port", "0"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("MODSERV_CACHE_DIR", dir.resolve("cache").toString());
    ServeProcess server = new ServeProcess(pb.start());
    server.awaitLine(l -> l.contains("try: curl"), Duration.ofMinutes(3));
    return server;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }

  HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return HTTP.send(postRequest(path, body), HttpResponse.BodyHandlers.ofString());
  }

  HttpRequest postRequest(String path, String body) {
    return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  /** The entry of {@code GET /api/models} for one version of a model; null when not listed. */
  @Nullable JsonNode version(String model, long version) throws Exception {
    for (JsonNode m : JSON.readTree(get("/api/models").body()).get("models")) {
      if (m.get("name").asText().equals(model)) {
        for (JsonNode v : m.get("versions")) {
          if (v.get("version").asLong() == version) {
            return v;
          }
        }
      }
    }
    return null;
  }

  /** The state of one version of a model in {@code /api/models}; "ABSENT" when not listed. */
  String state(String model, long version) throws Exception {
    JsonNode v = version(model, version);
    return v == null ? "ABSENT" : v.get("state").asText();
  }

  /** Waits until {@code state(model, version)} is one of {@code states}. */
  void awaitState(String model, long version, String... states) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    String state = state(model, version);
    while (!List.of(states).contains(state)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(model + " v" + version + " stayed " + state + ":\n"
            + String.join("\n", output));
      }
      Thread.sleep(50);
      state = state(model, version);
    }
  }

  /** Waits for a line of output matching {@code wanted}; fails if the process exits first. */
  String awaitLine(Predicate<String> wanted, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (String line : output) {
        if (wanted.test(line)) {
          return line;
        }
      }
      if (!process.isAlive()) {
        throw new AssertionError("exited " + process.exitValue() + ":\n"
            + String.join("\n", output));
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no such line:\n" + String.join("\n", output));
  }

  private int awaitPort() throws InterruptedException {
    Matcher m = LISTENING.matcher(awaitLine(l -> LISTENING.matcher(l).find(),
        Duration.ofMinutes(3)));
    if (!m.find()) {
      throw new AssertionError("unreachable");
    }
    return Integer.parseInt(m.group(1));
  }
}
