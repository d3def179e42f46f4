package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The routes answering requests a host's server received, without the adapter's Jetty. */
class HostedRoutesTest {
  static ModelServer server;
  static SimpleMeterRegistry meters = new SimpleMeterRegistry();
  static HostedRoutes routes;

  @BeforeAll
  static void start() {
    server = ModelServer.builder().backend(FakeBackend.create()).discoverBackends(false).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    routes = HostedRoutes.builder(server).maxBodyBytes(200).meterRegistry(meters).build();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** A host's request, answered into fields. */
  static final class Recorded implements HostExchange {
    final String method;
    final String path;
    final Map<String, String> requestHeaders;
    final byte[] body;
    final Map<String, String> headers = new LinkedHashMap<>();
    final CompletableFuture<Integer> status = new CompletableFuture<>();
    volatile byte[] answer = new byte[0];

    Recorded(String method, String path, Map<String, String> requestHeaders, byte[] body) {
      this.method = method;
      this.path = path;
      this.requestHeaders = requestHeaders;
      this.body = body;
    }

    static Recorded post(String path, String json) {
      return new Recorded("POST", path, Map.of("Content-Type", "application/json"),
          json.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String method() {
      return method;
    }

    @Override
    public String path() {
      return path;
    }

    @Override
    public @Nullable String requestHeader(String name) {
      return requestHeaders.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
          .map(Map.Entry::getValue).findFirst().orElse(null);
    }

    @Override
    public byte[] body() {
      return body;
    }

    @Override
    public void responseHeader(String name, String value) {
      headers.put(name, value);
    }

    @Override
    public void send(int code, String contentType, byte[] bytes) {
      answer = bytes;
      status.complete(code);
    }

    @Override
    public void startStream(String contentType) {
      throw new AssertionError("no stream expected");
    }

    @Override
    public void write(byte[] bytes, Written written) {
      throw new AssertionError("no stream expected");
    }

    @Override
    public void endStream(@Nullable Throwable failure) {
      throw new AssertionError("no stream expected");
    }

    @Override
    public void onClientGone(Runnable action) {}

    int await() throws Exception {
      return status.get(10, TimeUnit.SECONDS);
    }

    String text() {
      return new String(answer, StandardCharsets.UTF_8);
    }
  }

  @Test
  void servesTheModelDialectsOnly() {
    assertThat(routes.endpoints()).contains(new HostedRoutes.Endpoint("POST", "/api/predict"),
        new HostedRoutes.Endpoint("POST", "/v2/models/{m}/infer"),
        new HostedRoutes.Endpoint("POST", "/v1/embeddings"));
    assertThat(routes.endpoints()).extracting(HostedRoutes.Endpoint::path)
        .doesNotContain("/health", "/ready", "/metrics", "/models", "/");
    assertThatThrownBy(() -> HostedRoutes.builder(server).dialects(Set.of(Dialect.MANAGEMENT)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("MANAGEMENT");
    assertThat(HostedRoutes.builder(server).dialects(EnumSet.of(Dialect.OLLAMA)).build()
        .endpoints()).contains(new HostedRoutes.Endpoint("GET", "/"));
  }

  @Test
  void answersAsTheAdapterDoes() throws Exception {
    Recorded r = Recorded.post("/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}");
    long before = predictions();
    routes.serve(r);
    assertThat(r.await()).as(r.text()).isEqualTo(200);
    assertThat(r.text()).contains("\"model\":\"iris\"").contains("\"outputs\"");
    assertThat(r.headers).containsKey("X-Request-Id");
    assertThat(predictions()).isEqualTo(before + 1);
  }

  private static long predictions() {
    var timer = meters.find("modserv.http.requests").tag("route", "/api/predict")
        .tag("status", "200").timer();
    return timer == null ? 0 : timer.count();
  }

  @Test
  void refusesWhatTheAdapterRefuses() throws Exception {
    Recorded unknown = Recorded.post("/v2/models/nope/infer",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}");
    routes.serve(unknown);
    assertThat(unknown.await()).isEqualTo(404);
    Recorded method = new Recorded("GET", "/api/predict", Map.of(), new byte[0]);
    routes.serve(method);
    assertThat(method.await()).isEqualTo(405);
    assertThat(method.headers).containsEntry("Allow", "POST");
    Recorded big = Recorded.post("/api/predict", "{\"model\":\"iris\",\"pad\":\""
        + "x".repeat(300) + "\"}");
    routes.serve(big);
    assertThat(big.await()).isEqualTo(413);
    Recorded form = new Recorded("POST", "/api/predict", Map.of("Content-Type", "text/plain"),
        "{}".getBytes(StandardCharsets.UTF_8));
    routes.serve(form);
    assertThat(form.await()).isEqualTo(415);
  }

  @Test
  void takesGzipBodies() throws Exception {
    ByteArrayOutputStream zipped = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(zipped)) {
      gz.write("{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}".getBytes(StandardCharsets.UTF_8));
    }
    Recorded r = new Recorded("POST", "/api/predict", Map.of("Content-Type", "application/json",
        "Content-Encoding", "gzip"), zipped.toByteArray());
    routes.serve(r);
    assertThat(r.await()).as(r.text()).isEqualTo(200);
  }
}
