package dev.modserv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.testkit.SlowOnnxModel;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code modserv serve} as a process, stopped by SIGTERM while a request runs longer than the
 * grace period: the request is answered 503 SHUTTING_DOWN, and the process exits with status 1.
 */
class ShutdownCutTest {
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private static final int WIDTH = 256;

  @TempDir Path tmp;

  @Test
  void aRequestCutByTheGracePeriodIs503AndTheExitStatusIs1() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    SlowOnnxModel.write(Files.createDirectories(repo.resolve("slow/1")).resolve("model.onnx"),
        WIDTH, 1000);
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    String classPath = String.join(File.pathSeparator, System.getProperty("java.class.path"),
        System.getProperty("jdk.module.path", ""));
    // The class path goes in an argument file: ONNX Runtime 1.29 crashes the process (SIGSEGV,
    // no error report) creating a session when the process's command line is over about 4 KB.
    Path args = Files.writeString(tmp.resolve("java.args"), "-cp\n\"" + classPath
        .replace("\\", "\\\\") + "\"\n");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "--enable-native-access=ALL-UNNAMED", "@" + args,
        Main.class.getName(), "serve", "--host", "127.0.0.1", "--port", Integer.toString(port),
        "--model-repository", repo.toString(), "--grace-period", "300ms")
        .redirectErrorStream(true);
    pb.environment().put("MODSERV_CACHE_DIR", tmp.resolve("cache").toString());
    Process server = pb.start();
    ConcurrentLinkedQueue<String> output = new ConcurrentLinkedQueue<>();
    Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(server.getInputStream(),
          StandardCharsets.UTF_8))) {
        r.lines().forEach(output::add);
      } catch (java.io.IOException e) {
        output.add(e.toString());
      }
    });
    try {
      String base = "http://127.0.0.1:" + port;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (status(base + "/ready") != 200) {
        assertThat(System.nanoTime() - deadline).as("ready in 60 s: %s", output).isNegative();
        if (!server.isAlive()) {
          throw new AssertionError("the server exited with status " + server.exitValue() + ": "
              + output);
        }
        Thread.sleep(100);
      }
      // 4,096 rows through 1,000 products: far longer than the 300 ms grace period.
      CompletableFuture<HttpResponse<String>> running = CLIENT.sendAsync(HttpRequest.newBuilder(
              URI.create(base + "/v2/models/slow/infer"))
          .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
          .POST(HttpRequest.BodyPublishers.ofString(infer(4096))).build(),
          HttpResponse.BodyHandlers.ofString());
      Thread.sleep(1000); // it reaches the engine
      assertThat(running).as("still running when the stop comes").isNotDone();
      server.destroy(); // SIGTERM

      HttpResponse<String> cut = running.get(30, TimeUnit.SECONDS);
      assertThat(cut.statusCode()).as(cut.body()).isEqualTo(503);
      assertThat(cut.body()).contains("shutdown grace period of 300 ms ran out");
      assertThat(server.waitFor(60, TimeUnit.SECONDS)).as("exits: %s", output).isTrue();
      assertThat(server.exitValue()).as("exit status; output: %s", output).isEqualTo(1);
    } finally {
      server.destroyForcibly();
    }
  }

  private static int status(String url) {
    try {
      return CLIENT.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static String infer(long rows) {
    float[] x = new float[WIDTH];
    Arrays.fill(x, 2f);
    List<String> parts = new ArrayList<>();
    parts.add("{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1," + WIDTH + "],\"data\":"
        + Arrays.toString(x) + "}");
    parts.add("{\"name\":\"rows\",\"datatype\":\"INT64\",\"shape\":[1],\"data\":[" + rows + "]}");
    return "{\"inputs\":[" + String.join(",", parts) + "]}";
  }
}
