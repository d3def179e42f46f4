package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.onnx.OnnxBackend;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.JMException;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Register and unload one ONNX model over the management API again and again while four threads
 * send it predictions: every answer is 200, 404 or 503; once an unload answered, no version of
 * the model is loading or loaded (a prediction that raced with the unload must not load the deleted
 * model again on demand); and the process's resident memory stops growing once warm.
 * {@code -Dmodserv.churn.cycles=N} changes the number of cycles (default 2,000: about 30 s on a
 * loaded 2-core machine).
 */
class ChurnTest {
  static final int CYCLES = Integer.getInteger("modserv.churn.cycles", 2_000);
  /**
   * Where resident memory is first read. What still grows after it is the JVM warming up, not
   * modserv: the JIT compiles for a long while (code cache +2-3 MB up to cycle 2,000; measured on
   * 2 cores), and glibc keeps the compiler's freed scratch memory (10-15 MB in one malloc arena);
   * the collector touches committed heap pages one by one (+8-12 MB). So the heap is fixed and
   * pre-touched (surefire's argLine), and {@link #residentKb()} waits for the compiler to go quiet
   * and returns freed native memory to the system before it reads.
   */
  static final int WARM_CYCLES = 200;
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  static final String PREDICT = "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\","
      + "\"shape\":[1,2],\"data\":[1.5,-2]}]}";

  @TempDir Path tmp;

  static HttpResponse<String> send(HttpAdapter http, String method, String path, String body)
      throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path))
        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * This process's resident set in kB, once the collector settled, the JIT compiler has been idle
   * for a moment (up to 10 s), and glibc gave freed memory back (System.trim_native_heap; skipped
   * where the JVM cannot).
   */
  static long residentKb() throws Exception {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
    }
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    long compiling = jit.getTotalCompilationTime();
    for (long until = System.nanoTime() + 10_000_000_000L; System.nanoTime() < until; ) {
      Thread.sleep(200);
      long now = jit.getTotalCompilationTime();
      if (now == compiling) {
        break;
      }
      compiling = now;
    }
    try {
      ManagementFactory.getPlatformMBeanServer().invoke(
          new ObjectName("com.sun.management:type=DiagnosticCommand"), "systemTrimNativeHeap",
          new Object[] {null}, new String[] {String[].class.getName()});
    } catch (JMException | RuntimeException e) {
      // Not glibc, or a JVM without the command: read resident memory as it is.
    }
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }

  static String committedKb() {
    StringBuilder sb = new StringBuilder();
    for (var pool : ManagementFactory.getMemoryPoolMXBeans()) {
      sb.append(pool.getName()).append('=').append(pool.getUsage().getCommitted() / 1024)
          .append(' ');
    }
    return sb.toString();
  }

  @Test
  void registerAndUnloadUnderPredictionsNeverResurrectsAModelAndDoesNotLeak() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("repo"));
    Files.copy(OipOnnxTest.MODELS.resolve("features.onnx"),
        Files.createDirectories(root.resolve("churn/1")).resolve("model.onnx"));
    try (ModelServer server = ModelServer.builder().backend(new OnnxBackend())
            .discoverBackends(false).build();
        HttpAdapter http = HttpAdapter.builder(server).port(0).management(root).build()) {
      http.start();
      AtomicBoolean stop = new AtomicBoolean();
      Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
      ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();
      List<Thread> predictors = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        predictors.add(Thread.ofPlatform().name("predict-" + t).start(() -> {
          while (!stop.get()) {
            try {
              HttpResponse<String> r = send(http, "POST", "/v2/models/churn/infer", PREDICT);
              statuses.computeIfAbsent(r.statusCode(), s -> new AtomicLong()).incrementAndGet();
              if (!Set.of(200, 404, 503).contains(r.statusCode()) && unexpected.size() < 10) {
                unexpected.add(r.statusCode() + " " + r.body());
              }
            } catch (Exception e) {
              unexpected.add(e.toString());
            }
          }
        }));
      }
      List<String> resurrected = new ArrayList<>();
      long rssAfterWarm = 0;
      String heapAfterWarm = "";
      long start = System.nanoTime();
      try {
        for (int cycle = 1; cycle <= CYCLES; cycle++) {
          HttpResponse<String> loaded = send(http, "POST", "/models",
              "{\"name\":\"churn\",\"path\":\"churn/1/model.onnx\",\"version\":1}");
          assertThat(loaded.statusCode()).as(loaded.body()).isEqualTo(201);
          HttpResponse<String> unloaded = send(http, "DELETE", "/models/churn", null);
          assertThat(unloaded.statusCode()).as(unloaded.body()).isEqualTo(200);
          // The unload answered once every version closed: nothing may be loading or loaded now,
          // and nothing registered to load on demand.
          for (ModelStatus s : server.registry().versions("churn")) {
            if (s.state() != ModelState.DRAINING && s.state() != ModelState.UNLOADED
                && resurrected.size() < 10) {
              resurrected.add("cycle " + cycle + ": version " + s.version() + " " + s.state());
            }
          }
          server.registry().registered().stream().filter(s -> s.name().equals("churn"))
              .forEach(s -> resurrected.add("registered again: " + s));
          if (cycle == WARM_CYCLES) {
            rssAfterWarm = residentKb();
            heapAfterWarm = committedKb();
          }
        }
      } finally {
        stop.set(true);
        for (Thread t : predictors) {
          t.join(30_000);
        }
      }
      long rssAtEnd = residentKb();
      String heapAtEnd = committedKb();
      long seconds = (System.nanoTime() - start) / 1_000_000_000;
      assertThat(unexpected).as("answers other than 200/404/503").isEmpty();
      assertThat(resurrected).as("a deleted model came back").isEmpty();
      assertThat(server.registry().versions("churn")).as("after the predictors stopped")
          .allMatch(s -> s.state() == ModelState.UNLOADED || s.state() == ModelState.DRAINING);
      assertThat(statuses).as("the predictions reached the model").containsKey(200);
      assertThat(rssAtEnd).as("resident kB at the end (%d cycles in %d s; %d kB after cycle %d;"
              + " answers %s; committed kB %s then %s)", CYCLES, seconds, rssAfterWarm, WARM_CYCLES,
              statuses, heapAfterWarm, heapAtEnd)
          .isLessThan(rssAfterWarm + rssAfterWarm / 20);
    }
  }
}
