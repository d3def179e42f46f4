package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.TalkBackend;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_35_0.Metrics;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics} after traffic of every kind, read with the Prometheus client's own parser (the
 * protobuf exposition, which Prometheus negotiates first; the Java client has no text parser): every
 * meter {@code docs/metrics.md} lists is there with its Prometheus name, type, labels and buckets,
 * and the text format has the {@code _bucket} series {@code histogram_quantile} reads.
 */
class MetricsScrapeTest {
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private static final Pattern ROW = Pattern.compile(
      "^\\| `(modserv\\.[a-z.]+)` \\| [a-z]+ \\| `([a-z_]+)` ([a-z]+) \\|\\s*([a-z_, ]*?)\\s*"
          + "\\|\\s*([a-z ]*?)\\s*\\|");
  private static final Pattern BUCKETS = Pattern.compile("^\\| ([a-z ]+) \\| ([0-9.]+ ?[a-z]*"
      + "(?:, [0-9.]+ ?[a-z]*)*) \\|$");

  static PrometheusMeterRegistry registry;
  static ModelServer server;
  static HttpAdapter http;

  @BeforeAll
  static void start() throws Exception {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    server = ModelServer.builder().backend(FakeBackend.create()).backend(new TalkBackend())
        .discoverBackends(false).meterRegistry(registry).build();
    server.registry().configure("iris", ModelConfig.builder().responseCache(true).build());
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    server.registry().load("talk", 1, Path.of("talk.talk")).join();
    // The server's registry, given once: the adapter shows it by default.
    http = HttpAdapter.builder(server).port(0).build();
    http.start();
  }

  @AfterAll
  static void stop() {
    http.close();
    server.close();
  }

  static HttpResponse<String> post(String path, String body) throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<byte[]> scrape(String accept) throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
        + "/metrics")).header("Accept", accept).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  /** Traffic of every kind, with errors of three codes. */
  static void traffic() throws Exception {
    assertThat(post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}").statusCode())
        .isEqualTo(200);
    assertThat(post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}").statusCode())
        .as("a response-cache hit").isEqualTo(200);
    assertThat(post("/v2/models/iris/infer", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],"
        + "\"datatype\":\"FP32\",\"data\":[5,6,7,8]}]}").statusCode()).isEqualTo(200);
    assertThat(post("/v1/embeddings", "{\"model\":\"talk\",\"input\":[\"a b\",\"c\"]}")
        .statusCode()).isEqualTo(200);
    String chat = "{\"model\":\"talk\",\"messages\":[{\"role\":\"user\",\"content\":"
        + "\"one two three\"}]";
    assertThat(post("/v1/chat/completions", chat + "}").statusCode()).isEqualTo(200);
    var streamed = post("/v1/chat/completions", chat + ",\"stream\":true}");
    assertThat(streamed.statusCode()).isEqualTo(200);
    assertThat(streamed.body()).contains("data: [DONE]");
    assertThat(post("/api/predict", "{\"model\":\"nope\",\"inputs\":[[1,2,3,4]]}").statusCode())
        .isEqualTo(404);
    assertThat(post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3]]}").statusCode())
        .isEqualTo(400);
    assertThat(post("/v2/models/iris/versions/9/infer", "{\"inputs\":[{\"name\":\"x\","
        + "\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}").statusCode())
        .isEqualTo(404);
  }

  record Documented(String prometheus, String type, Set<String> labels, String buckets) {}

  static Map<String, Documented> documented(List<String> lines) {
    Map<String, Documented> rows = new LinkedHashMap<>();
    for (String line : lines) {
      Matcher m = ROW.matcher(line);
      if (m.find()) {
        Set<String> labels = Arrays.stream(m.group(4).split(",")).map(String::strip)
            .filter(s -> !s.isEmpty()).collect(Collectors.toCollection(TreeSet::new));
        rows.put(m.group(1), new Documented(m.group(2), m.group(3), labels, m.group(5).strip()));
      }
    }
    return rows;
  }

  /** The bucket table: name to upper bounds in the meter's base unit (seconds for times). */
  static Map<String, List<Double>> bucketTable(List<String> lines) {
    Map<String, List<Double>> table = new LinkedHashMap<>();
    for (String line : lines) {
      Matcher m = BUCKETS.matcher(line);
      if (m.find()) {
        List<Double> bounds = new ArrayList<>();
        for (String b : m.group(2).split(", ")) {
          String[] parts = b.split(" ");
          double v = Double.parseDouble(parts[0]);
          bounds.add(parts.length == 1 ? v : parts[1].equals("ms") ? v / 1000 : v);
        }
        table.put(m.group(1), bounds);
      }
    }
    return table;
  }

  static Map<String, Metrics.MetricFamily> parse(byte[] body) throws IOException {
    Map<String, Metrics.MetricFamily> families = new LinkedHashMap<>();
    InputStream in = new ByteArrayInputStream(body);
    Metrics.MetricFamily f;
    while ((f = Metrics.MetricFamily.parseDelimitedFrom(in)) != null) {
      families.put(f.getName(), f);
    }
    return families;
  }

  @Test
  void everyDocumentedMeterIsScrapedWithItsTypeLabelsAndBuckets() throws Exception {
    traffic();
    List<String> doc = Files.readAllLines(Path.of("../docs/metrics.md"));
    Map<String, Documented> rows = documented(doc);
    Map<String, List<Double>> buckets = bucketTable(doc);
    assertThat(rows).hasSizeGreaterThan(20);
    assertThat(buckets).containsKeys("latency", "queue", "ttft", "tpot", "load", "rows",
        "tokens per second");

    var r = scrape("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;"
        + " encoding=delimited");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/vnd.google.protobuf");
    Map<String, Metrics.MetricFamily> families = parse(r.body());

    for (var e : rows.entrySet()) {
      Documented d = e.getValue();
      Metrics.MetricFamily f = families.get(d.prometheus());
      assertThat(f).as(e.getKey() + " is exported as " + d.prometheus()).isNotNull();
      assertThat(f.getType().name().toLowerCase(java.util.Locale.ROOT)).as(e.getKey())
          .isEqualTo(d.type());
      assertThat(f.getMetricList()).as(e.getKey()).isNotEmpty();
      for (Metrics.Metric m : f.getMetricList()) {
        Set<String> labels = m.getLabelList().stream().map(Metrics.LabelPair::getName)
            .collect(Collectors.toCollection(TreeSet::new));
        assertThat(labels).as(e.getKey() + " labels").isEqualTo(d.labels());
        if (d.type().equals("histogram")) {
          List<Double> bounds = m.getHistogram().getBucketList().stream()
              .map(Metrics.Bucket::getUpperBound).filter(Double::isFinite).toList();
          assertThat(bounds).as(e.getKey() + " buckets").usingElementComparator(
              (a, b) -> Math.abs(a - b) < 1e-9 ? 0 : Double.compare(a, b))
              .isEqualTo(buckets.get(d.buckets()));
        }
      }
    }
    // Errors by code, of three codes.
    Set<String> codes = families.get("modserv_errors_total").getMetricList().stream()
        .flatMap(m -> m.getLabelList().stream()).filter(l -> l.getName().equals("code"))
        .map(Metrics.LabelPair::getValue).collect(Collectors.toSet());
    assertThat(codes).contains("MODEL_NOT_FOUND", "INVALID_INPUT", "VERSION_NOT_FOUND");
    // Meters only for what a model does: the embedding-and-chat model has no response cache.
    assertThat(families.get("modserv_generation_ttft_seconds").getMetricList())
        .allSatisfy(m -> assertThat(m.getLabelList()).anySatisfy(l ->
            assertThat(l.getValue()).isEqualTo("talk")));

    String text = new String(scrape("text/plain").body(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(text).contains("# TYPE modserv_request_latency_seconds histogram")
        .containsPattern("modserv_request_latency_seconds_bucket\\{[^}]*le=\"0\\.001\"")
        .containsPattern("modserv_request_latency_seconds_bucket\\{[^}]*le=\"\\+Inf\"")
        .containsPattern("modserv_generation_ttft_seconds_bucket\\{[^}]*le=\"\\+Inf\"")
        .containsPattern("modserv_http_requests_seconds_bucket\\{[^}]*le=\"\\+Inf\"")
        .doesNotContain("tokens_per_second_tokens");
  }

  @Test
  void anyRegistryMayBeGiven() {
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    CompositeMeterRegistry composite = new CompositeMeterRegistry().add(new SimpleMeterRegistry())
        .add(new CompositeMeterRegistry().add(prometheus));
    assertThat(HttpAdapter.builder(server).meterRegistry(composite).build().meterRegistry())
        .as("found in a composite").isSameAs(prometheus);

    CompositeMeterRegistry none = new CompositeMeterRegistry().add(new SimpleMeterRegistry());
    PrometheusMeterRegistry added = HttpAdapter.builder(server).meterRegistry(none).build()
        .meterRegistry();
    assertThat(none.getRegistries()).as("added to the composite").contains(added);

    MeterRegistry other = new SimpleMeterRegistry();
    assertThat(HttpAdapter.builder(server).meterRegistry(other).build().meterRegistry())
        .isNotNull();
    assertThat(HttpAdapter.builder(server).build().meterRegistry())
        .as("the server's registry by default").isSameAs(registry);
  }
}
