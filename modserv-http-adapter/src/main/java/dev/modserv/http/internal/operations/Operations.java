package dev.modserv.http.internal.operations;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.ServingMeter;
import dev.modserv.http.internal.DialectRoutes;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.RequestTimers;
import dev.modserv.http.internal.Routes;
import dev.modserv.http.internal.Settings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;

/**
 * Operations, always served: liveness ({@code /health}), readiness ({@code /ready}) and metrics
 * ({@code /metrics}, Prometheus text or a JSON summary).
 */
public record Operations(Settings settings) implements DialectRoutes {
  private static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";
  private static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0;"
      + " charset=utf-8";
  private static final String PROTOBUF = "application/vnd.google.protobuf;"
      + " proto=io.prometheus.client.MetricFamily; encoding=delimited";
  private static final byte[] HEALTHY = "{\"status\":\"healthy\"}".getBytes(StandardCharsets.UTF_8);



  @Override
  public void register(Routes routes) {
    routes.get("/health", this::health).open();
    routes.get("/ready", this::ready).open();
    routes.get("/metrics", this::metrics);
  }

  void health(Exchange ex) {
    ex.json(200, HEALTHY);
  }

  void ready(Exchange ex) {
    List<String> waiting = settings.readiness().waiting();
    boolean accepting = settings.readiness().accepting();
    boolean ready = accepting && waiting.isEmpty();
    ex.json(ready ? 200 : 503, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("status", ready ? "ready" : accepting ? "not ready" : "shutting down");
      if (!waiting.isEmpty()) {
        g.writeArrayFieldStart("waiting");
        for (String w : waiting) {
          g.writeString(w);
        }
        g.writeEndArray();
      }
      g.writeEndObject();
    }));
  }

  void metrics(Exchange ex) {
    String accept = ex.request().getHeaders().get(HttpHeader.ACCEPT);
    if (accept != null && accept.contains("application/json")) {
      ex.json(200, Json.write(this::writeSummary));
      return;
    }
    // The scraper's Accept picks the format: Prometheus text, OpenMetrics or protobuf.
    String type = accept == null ? TEXT : accept.contains("application/vnd.google.protobuf")
        ? PROTOBUF : accept.contains("application/openmetrics-text") ? OPENMETRICS : TEXT;
    var out = new java.io.ByteArrayOutputStream(16 << 10);
    try {
      settings.prometheus().scrape(out, type);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    ex.send(200, type, out.toByteArray());
  }

  /** Counts of one scope (the server or a model) read from the registry. */
  private static final class Tally {
    long requests;
    long errors;
    long timed;
    double timeMs;

    double averageMs() {
      return timed == 0 ? 0 : timeMs / timed;
    }

    double errorRate() {
      return requests == 0 ? 0 : (double) errors / requests;
    }
  }

  /**
   * The JSON summary of {@code /metrics}: the server's HTTP requests and every model's requests
   * (summed over its versions), with the process's uptime and memory.
   */
  private void writeSummary(JsonGenerator g) throws IOException {
    var registry = settings.registry();
    Tally server = new Tally();
    for (Timer t : registry.find(RequestTimers.METER).timers()) {
      long n = t.count();
      server.requests += n;
      String status = t.getId().getTag("status");
      if (status != null && !status.isEmpty() && status.charAt(0) >= '4') {
        server.errors += n;
      }
    }
    Map<String, Tally> models = new TreeMap<>();
    Map<String, Instant> since = new TreeMap<>();
    for (ModelStatus s : settings.server().registry().models()) {
      models.computeIfAbsent(s.name(), k -> new Tally());
      if (s.state() == ModelState.READY && s.loadedAt().isPresent()) {
        since.merge(s.name(), s.loadedAt().get(), (a, b) -> a.isBefore(b) ? a : b);
      }
    }
    for (Counter c : registry.find(ServingMeter.REQUESTS.meterName()).counters()) {
      String model = c.getId().getTag("model");
      if (model == null) {
        continue;
      }
      long n = (long) c.count();
      Tally t = models.computeIfAbsent(model, k -> new Tally());
      t.requests += n;
      if (!"success".equals(c.getId().getTag("outcome"))) {
        t.errors += n;
      }
    }
    for (Timer timer : registry.find(ServingMeter.REQUEST_LATENCY.meterName())
        .tag("outcome", "success").timers()) {
      String model = timer.getId().getTag("model");
      if (model == null) {
        continue;
      }
      Tally t = models.computeIfAbsent(model, k -> new Tally());
      double ms = timer.totalTime(TimeUnit.NANOSECONDS) / 1e6;
      t.timed += timer.count();
      t.timeMs += ms;
      server.timed += timer.count();
      server.timeMs += ms;
    }
    Instant now = Instant.now();
    g.writeStartObject();
    g.writeFieldName("server");
    writeTally(g, server, ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0, true);
    g.writeFieldName("models");
    g.writeStartObject();
    for (var e : models.entrySet()) {
      Instant loaded = since.get(e.getKey());
      g.writeFieldName(e.getKey());
      writeTally(g, e.getValue(), loaded == null ? 0
          : Math.max(0, Duration.between(loaded, now).toMillis()) / 1000.0, false);
    }
    g.writeEndObject();
    g.writeEndObject();
  }

  /**
   * Writes one scope. Memory is the process's: the JVM cannot attribute it to a model, so only the
   * server's summary has {@code memoryUsage}.
   */
  private static void writeTally(JsonGenerator g, Tally t, double uptimeSeconds, boolean memory)
      throws IOException {
    g.writeStartObject();
    g.writeNumberField("requestCount", t.requests);
    g.writeNumberField("averageInferenceTimeMs", t.averageMs());
    g.writeNumberField("errorCount", t.errors);
    g.writeNumberField("errorRate", t.errorRate());
    g.writeNumberField("uptime", uptimeSeconds);
    if (!memory) {
      g.writeEndObject();
      return;
    }
    g.writeObjectFieldStart("memoryUsage");
    Runtime rt = Runtime.getRuntime();
    long total = rt.totalMemory();
    g.writeNumberField("rss", rss());
    g.writeNumberField("heapTotal", total);
    g.writeNumberField("heapUsed", total - rt.freeMemory());
    g.writeNumberField("external", directBytes());
    g.writeEndObject();
    g.writeEndObject();
  }

  /** The resident set size from {@code /proc/self/status}, in bytes; -1 where unreadable. */
  static long rss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.substring(6).trim().split("\\s+");
          long value = Long.parseLong(parts[0]);
          return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? value * 1024 : value;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** Bytes used by direct buffers (the {@code direct} buffer pool); -1 when the JVM has none. */
  static long directBytes() {
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (pool.getName().equals("direct")) {
        return pool.getMemoryUsed();
      }
    }
    return -1;
  }
}
