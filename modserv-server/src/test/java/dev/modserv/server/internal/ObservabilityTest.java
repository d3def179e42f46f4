package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.http.HttpAdapter;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.TalkBackend;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The standalone server's tracing (spans continuing an incoming {@code traceparent}, into an
 * in-memory exporter), its JSON log format, and its JVM and process meters.
 */
class ObservabilityTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).build();
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CALLER_SPAN = "00f067aa0ba902b7";
  private static final String TRACEPARENT = "00-" + TRACE + "-" + CALLER_SPAN + "-01";

  /** Keeps every span it is given. */
  static final class InMemoryExporter implements SpanExporter {
    final List<SpanData> spans = new CopyOnWriteArrayList<>();

    @Override
    public CompletableResultCode export(Collection<SpanData> batch) {
      spans.addAll(batch);
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  private static HttpResponse<String> post(HttpAdapter http, String path, String body)
      throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path))
        .header("traceparent", TRACEPARENT).POST(HttpRequest.BodyPublishers.ofString(body))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Waits until the exporter holds a span matching {@code which}; returns it. */
  private static SpanData await(InMemoryExporter exporter, Predicate<SpanData> which,
      String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      for (SpanData s : exporter.spans) {
        if (which.test(s)) {
          return s;
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no span " + what + " among " + exporter.spans.stream()
        .map(SpanData::getName).toList());
  }

  private static String attribute(SpanData span, String key) {
    return String.valueOf(span.getAttributes().get(
        io.opentelemetry.api.common.AttributeKey.stringKey(key)));
  }

  @Test
  void aPredictAndAStreamedChatContinueTheIncomingTrace() throws Exception {
    InMemoryExporter exporter = new InMemoryExporter();
    try (Telemetry telemetry = Telemetry.of(SimpleSpanProcessor.create(exporter));
        ModelServer server = ModelServer.builder().backend(FakeBackend.create())
            .backend(new TalkBackend()).discoverBackends(false)
            .observationRegistry(telemetry.observationRegistry()).build()) {
      server.registry().load("iris", 1, Path.of("iris.fake")).join();
      server.registry().load("talk", 1, Path.of("talk.talk")).join();
      try (HttpAdapter http = HttpAdapter.builder(server).port(0).build()) {
        http.start();

        var predict = post(http, "/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}");
        assertThat(predict.statusCode()).isEqualTo(200);
        String answered = predict.headers().firstValue("traceparent").orElseThrow();
        assertThat(answered).startsWith("00-" + TRACE + "-").endsWith("-01")
            .doesNotContain(CALLER_SPAN);
        SpanData request = await(exporter, s -> s.getName().equals("POST /api/predict"),
            "of the predict request");
        assertThat(request.getTraceId()).isEqualTo(TRACE);
        assertThat(request.getParentSpanId()).as("a child of the caller's span")
            .isEqualTo(CALLER_SPAN);
        assertThat(answered).contains("-" + request.getSpanId() + "-");
        SpanData queue = await(exporter, s -> s.getName().equals("modserv.queue")
            && s.getTraceId().equals(TRACE), "modserv.queue");
        SpanData batch = await(exporter, s -> s.getName().equals("modserv.batch")
            && s.getTraceId().equals(TRACE), "modserv.batch");
        assertThat(queue.getParentSpanId()).isEqualTo(request.getSpanId());
        assertThat(batch.getParentSpanId()).isEqualTo(request.getSpanId());
        assertThat(attribute(batch, "model")).isEqualTo("iris");
        assertThat(attribute(batch, "version")).isEqualTo("1");
        assertThat(attribute(batch, "batch.rows")).isEqualTo("1");
        assertThat(attribute(batch, "outcome")).isEqualTo("success");
        assertThat(attribute(request, "status")).isEqualTo("200");

        var chat = post(http, "/v1/chat/completions", "{\"model\":\"talk\",\"stream\":true,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"one two three\"}]}");
        assertThat(chat.statusCode()).isEqualTo(200);
        assertThat(chat.body()).contains("data: [DONE]");
        SpanData chatRequest = await(exporter,
            s -> s.getName().equals("POST /v1/chat/completions"), "of the chat request");
        assertThat(chatRequest.getTraceId()).isEqualTo(TRACE);
        assertThat(chatRequest.getParentSpanId()).isEqualTo(CALLER_SPAN);
        assertThat(chat.headers().firstValue("traceparent").orElseThrow())
            .contains("-" + chatRequest.getSpanId() + "-");
        SpanData generation = await(exporter, s -> s.getName().equals("modserv.generation"),
            "modserv.generation");
        assertThat(generation.getParentSpanId()).isEqualTo(chatRequest.getSpanId());
        assertThat(attribute(generation, "model")).isEqualTo("talk");
        assertThat(attribute(generation, "version")).isEqualTo("1");
        assertThat(attribute(generation, "finish_reason")).isEqualTo("stop");
        assertThat(attribute(generation, "tokens.completion")).isEqualTo("3");
        assertThat(generation.getEndEpochNanos()).isLessThanOrEqualTo(
            chatRequest.getEndEpochNanos());
      }
    }
  }

  @Test
  void theJsonLogFormatWritesOneJsonObjectPerLine() throws Exception {
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    InMemoryExporter exporter = new InMemoryExporter();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try (Telemetry telemetry = Telemetry.of(SimpleSpanProcessor.create(exporter))) {
      Logging.configure("info", Logging.Format.JSON, true);
      MDC.put("request_id", "r-1");
      MDC.put("trace_id", TRACE);
      MDC.put("model", "iris");
      MDC.put("version", "1");
      try {
        LoggerFactory.getLogger("dev.modserv.test").warn("a line with \"quotes\"\nand a break",
            new IllegalStateException("why"));
      } finally {
        MDC.clear();
      }
      try (ModelServer server = ModelServer.builder().backend(FakeBackend.create())
              .discoverBackends(false).observationRegistry(telemetry.observationRegistry())
              .build()) {
        server.registry().load("iris", 1, Path.of("iris.fake")).join();
        try (HttpAdapter http = HttpAdapter.builder(server).port(0).build()) {
          http.start();
          var r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                  + http.port() + "/api/predict")).header("traceparent", TRACEPARENT)
              .header("X-Request-Id", "r-2").POST(HttpRequest.BodyPublishers.ofString(
                  "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}")).build(),
              HttpResponse.BodyHandlers.ofString());
          assertThat(r.statusCode()).isEqualTo(200);
          // A probe: at DEBUG, so not written at INFO.
          CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
              + "/health")).build(), HttpResponse.BodyHandlers.ofString());
          long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
          while (!captured.toString(StandardCharsets.UTF_8).contains("\"r-2\"")
              && System.nanoTime() < deadline) {
            Thread.sleep(10);   // the access log is written on its own thread
          }
        }
      }
    } finally {
      System.setOut(out);
      Logging.configure("info", Logging.Format.TEXT, false);
    }
    List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines).isNotEmpty();
    List<JsonNode> objects = new java.util.ArrayList<>();
    for (String line : lines) {
      JsonNode node = JSON.readTree(line);
      assertThat(node.isObject()).as(line).isTrue();
      assertThat(node.has("time") && node.has("level") && node.has("logger")).as(line).isTrue();
      objects.add(node);
    }
    JsonNode warned = objects.stream().filter(o -> o.path("logger").asText()
        .equals("dev.modserv.test")).findFirst().orElseThrow();
    assertThat(warned.get("message").asText()).isEqualTo("a line with \"quotes\"\nand a break");
    assertThat(warned.get("request_id").asText()).isEqualTo("r-1");
    assertThat(warned.get("trace_id").asText()).isEqualTo(TRACE);
    assertThat(warned.get("model").asText()).isEqualTo("iris");
    assertThat(warned.get("version").asText()).isEqualTo("1");
    assertThat(warned.get("exception").asText()).contains("IllegalStateException: why");

    Map<String, JsonNode> access = objects.stream()
        .filter(o -> o.path("logger").asText().equals(JsonLogLayout.ACCESS_LOGGER))
        .collect(Collectors.toMap(o -> o.path("route").asText(), o -> o));
    assertThat(access).containsOnlyKeys("/api/predict");
    JsonNode line = access.get("/api/predict");
    assertThat(line.get("request_id").asText()).isEqualTo("r-2");
    assertThat(line.get("trace_id").asText()).isEqualTo(TRACE);
    assertThat(line.get("status").asInt()).isEqualTo(200);
    assertThat(line.has("message")).isFalse();
  }

  @Test
  void theServerExportsJvmAndProcessMeters() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    StandaloneServer.bindJvmAndProcess(registry);
    assertThat(registry.scrape()).contains("jvm_memory_used_bytes", "jvm_gc_",
        "jvm_threads_live_threads", "process_cpu_usage", "process_files_open_files",
        "process_uptime_seconds", "jvm_classes_loaded_classes");
  }
}
