package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The edges of the adapter a hostile client meets, on a real server: cross-site requests, body
 * types and encodings, links out of the model root, slow clients, and the management routes with
 * no API key.
 */
class EdgeSafetyTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  static final String PREDICT = "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}";

  @TempDir static Path tmp;
  static Path root;
  static ModelServer server;
  static HttpAdapter http;

  @BeforeAll
  static void start() throws Exception {
    server = ModelServer.builder().backend(FakeBackend.create()).discoverBackends(false).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    root = Files.createDirectories(tmp.resolve("models"));
    http = HttpAdapter.builder(server).port(0).maxBodyBytes(64 * 1024).management(root)
        .corsOrigins("https://app.example")
        .readTimeouts(Duration.ofMillis(600), Duration.ofMillis(600)).build();
    http.start();
  }

  @AfterAll
  static void stop() {
    http.close();
    server.close();
  }

  static HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path))
        .timeout(Duration.ofSeconds(10));
  }

  static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String error(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body()).get("error").asText();
  }

  @Test
  void aCrossSiteTextPlainUnloadIsRefused() throws Exception {
    server.registry().load("victim", 1, Path.of("victim.fake")).join();
    // What a web page's fetch() sends without a preflight: a simple request.
    var crossSite = send(req("/v2/repository/models/victim/unload")
        .header("Origin", "https://evil.example").header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(crossSite.statusCode()).isEqualTo(403);
    assertThat(error(crossSite)).contains("another origin");
    var deleted = send(req("/models/victim").header("Origin", "null").DELETE());
    assertThat(deleted.statusCode()).isEqualTo(403);
    // Same origin, but not JSON: still refused.
    var textPlain = send(req("/v2/repository/models/victim/unload")
        .header("Origin", "http://127.0.0.1:" + http.port()).header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(textPlain.statusCode()).isEqualTo(415);
    assertThat(error(textPlain)).contains("application/json");
    assertThat(server.registry().versions("victim")).hasSize(1);
    assertThat(server.registry().versions("victim").get(0).state().name()).isEqualTo("READY");
  }

  @Test
  void allowedOriginsAndJsonContentTypesPass() throws Exception {
    for (String type : new String[] {"application/json", "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8", "application/vnd.api+json"}) {
      var r = send(req("/api/predict").header("Content-Type", type)
          .POST(HttpRequest.BodyPublishers.ofString(PREDICT)));
      assertThat(r.statusCode()).as(type).isEqualTo(200);
    }
    // No Content-Type at all: a programmatic client (browsers always send one).
    assertThat(send(req("/api/predict").POST(HttpRequest.BodyPublishers.ofString(PREDICT)))
        .statusCode()).isEqualTo(200);
    for (String origin : new String[] {"https://app.example", "http://127.0.0.1:" + http.port()}) {
      var r = send(req("/api/predict").header("Origin", origin)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(PREDICT)));
      assertThat(r.statusCode()).as(origin).isEqualTo(200);
    }
    var form = send(req("/api/predict").header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(PREDICT)));
    assertThat(form.statusCode()).isEqualTo(415);
    // Reading is not a change: a foreign origin may GET (CORS keeps it from reading the answer).
    assertThat(send(req("/api/models").header("Origin", "https://evil.example").GET())
        .statusCode()).isEqualTo(200);
  }

  @Test
  void gzipAndDeflateBodiesAreInflatedWithinTheLimit() throws Exception {
    byte[] plain = PREDICT.getBytes(StandardCharsets.UTF_8);
    var gzip = send(req("/api/predict").header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofByteArray(
            gzip(plain))));
    assertThat(gzip.statusCode()).as(gzip.body()).isEqualTo(200);
    assertThat(gzip.body()).contains("[[2.0,4.0,6.0,8.0]]");
    for (boolean raw : new boolean[] {false, true}) {
      var deflate = send(req("/api/predict").header("Content-Type", "application/json")
          .header("Content-Encoding", "deflate").POST(HttpRequest.BodyPublishers.ofByteArray(
              deflate(plain, raw))));
      assertThat(deflate.statusCode()).as("raw " + raw + ": " + deflate.body()).isEqualTo(200);
    }
    // 10 MB of spaces inflate from about 10 kB: past the 64 KiB limit, 413.
    byte[] bomb = gzip(("{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]" + " ".repeat(10_000_000)
        + "}").getBytes(StandardCharsets.UTF_8));
    assertThat(bomb.length).isLessThan(64 * 1024);
    var tooBig = send(req("/api/predict").header("Content-Encoding", "gzip")
        .POST(HttpRequest.BodyPublishers.ofByteArray(bomb)));
    assertThat(tooBig.statusCode()).isEqualTo(413);
    var br = send(req("/api/predict").header("Content-Encoding", "br")
        .POST(HttpRequest.BodyPublishers.ofByteArray(plain)));
    assertThat(br.statusCode()).isEqualTo(415);
    var notGzip = send(req("/api/predict").header("Content-Encoding", "gzip")
        .POST(HttpRequest.BodyPublishers.ofByteArray(plain)));
    assertThat(notGzip.statusCode()).isEqualTo(400);
    assertThat(error(notGzip)).contains("gzip");
  }

  @Test
  void aLinkOutOfTheRootInsideAModelFolderIsRefused() throws Exception {
    Path outside = Files.writeString(tmp.resolve("secret.bin"), "not yours");
    // POST /models with a folder: the folder is inside, a file in it links out.
    Path folder = Files.createDirectories(root.resolve("linked/1.fake"));
    Files.createSymbolicLink(folder.resolve("weights.bin"), outside);
    var management = send(req("/models").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(
            "{\"name\":\"linked\",\"path\":\"linked/1.fake\"}")));
    assertThat(management.statusCode()).as(management.body()).isEqualTo(403);
    assertThat(error(management)).contains("outside the model root").contains("weights.bin");
    // The repository extension's version folder, whose artifact sits beside a link out.
    Path version = Files.createDirectories(root.resolve("oip/1"));
    Files.writeString(version.resolve("model.fake"), "x");
    Files.createSymbolicLink(version.resolve("extra.bin"), outside);
    var oip = send(req("/v2/repository/models/oip/load").POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(oip.statusCode()).as(oip.body()).isEqualTo(403);
    assertThat(server.registry().versions("linked")).isEmpty();
    assertThat(server.registry().versions("oip")).isEmpty();
    // A link that stays inside the root is fine.
    Path inside = Files.createDirectories(root.resolve("fine/1.fake"));
    Files.createSymbolicLink(inside.resolve("weights.bin"), version.resolve("model.fake"));
    var fine = send(req("/models").POST(HttpRequest.BodyPublishers.ofString(
        "{\"name\":\"fine\",\"path\":\"fine/1.fake\"}")));
    assertThat(fine.statusCode()).as(fine.body()).isEqualTo(201);
  }

  @Test
  void aSlowLorisSendingHeadersByteByByteIsCutOff() throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), http.port())) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      byte[] headers = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
          .getBytes(StandardCharsets.US_ASCII);
      long t0 = System.nanoTime();
      boolean cut = false;
      try {
        for (byte b : headers) {
          out.write(b);
          out.flush();
          Thread.sleep(100); // each byte well within any idle timeout
        }
      } catch (java.io.IOException closed) {
        cut = true;
      }
      if (!cut) {
        cut = s.getInputStream().read() == -1; // closed by the server, no answer
      }
      long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
      assertThat(cut).isTrue();
      // The deadline is 600 ms (checked every 150 ms); the whole header would take 4 s.
      assertThat(ms).isBetween(500L, 2500L);
    }
    assertThat(send(req("/health").GET()).statusCode()).isEqualTo(200);
  }

  @Test
  void aBodyThatTricklesPastItsDeadlineIs408() throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), http.port())) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + PREDICT.length() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      long t0 = System.nanoTime();
      for (int i = 0; i < 5; i++) {
        out.write(PREDICT.charAt(i));
        out.flush();
        Thread.sleep(50);
      }
      String answer = readAll(s.getInputStream());
      long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
      assertThat(answer).startsWith("HTTP/1.1 408").contains("did not arrive within 600 ms");
      assertThat(ms).isBetween(500L, 2500L);
    }
  }

  @Test
  void withoutAKeyTheManagementRoutesAnswerOnlyThisMachine() throws Exception {
    InetAddress external = null;
    for (var nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      for (var address : java.util.Collections.list(nic.getInetAddresses())) {
        if (!address.isLoopbackAddress() && address instanceof java.net.Inet4Address) {
          external = address;
        }
      }
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(external != null, "no non-loopback address");
    try (HttpAdapter open = HttpAdapter.builder(server).port(0).host("0.0.0.0").management(root)
        .build()) {
      open.start();
      String base = "http://" + external.getHostAddress() + ":" + open.port();
      var remote = CLIENT.send(HttpRequest.newBuilder(URI.create(base + "/models/iris")).DELETE()
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(remote.statusCode()).isEqualTo(403);
      assertThat(error(remote)).contains("API key");
      var index = CLIENT.send(HttpRequest.newBuilder(URI.create(base + "/v2/repository/index"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(index.statusCode()).isEqualTo(403);
      // Inference is not management: served to every client.
      var predict = CLIENT.send(HttpRequest.newBuilder(URI.create(base + "/api/predict"))
          .POST(HttpRequest.BodyPublishers.ofString(PREDICT)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(predict.statusCode()).isEqualTo(200);
      var local = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + open.port()
          + "/v2/repository/index")).POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(local.statusCode()).isEqualTo(200);
    }
    try (HttpAdapter keyed = HttpAdapter.builder(server).port(0).host("0.0.0.0").management(root)
        .apiKey("k").build()) {
      keyed.start();
      var remote = CLIENT.send(HttpRequest.newBuilder(URI.create("http://"
          + external.getHostAddress() + ":" + keyed.port() + "/v2/repository/index"))
          .header("Authorization", "Bearer k").POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(remote.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aLoopbackClientCallingUsByAForeignNameIsNotLocal() throws Exception {
    // DNS rebinding: a page at rebound.example, whose name now resolves to 127.0.0.1, sends
    // same-origin requests from loopback with its own name in Host.
    assertThat(rawStatus("POST /v2/repository/index HTTP/1.1\r\nHost: rebound.example:"
        + http.port() + "\r\nOrigin: http://rebound.example:" + http.port()
        + "\r\nContent-Type: application/json\r\nContent-Length: 0\r\n"
        + "Connection: close\r\n\r\n")).isEqualTo(403);
    for (String host : List.of("localhost", "127.0.0.1", "[::1]", "127.1.2.3")) {
      assertThat(rawStatus("POST /v2/repository/index HTTP/1.1\r\nHost: " + host + ":"
          + http.port() + "\r\nContent-Type: application/json\r\nContent-Length: 0\r\n"
          + "Connection: close\r\n\r\n")).as(host).isEqualTo(200);
    }
  }

  private static int rawStatus(String request) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), http.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String answer = readAll(s.getInputStream());
      return Integer.parseInt(answer.substring(9, 12));
    }
  }

  private static String readAll(InputStream in) throws Exception {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      for (int n; (n = in.read(buf)) >= 0; ) {
        all.write(buf, 0, n);
        if (all.toString(StandardCharsets.UTF_8).contains("}")) {
          break;
        }
      }
    } catch (java.net.SocketTimeoutException e) {
      // whatever came
    }
    return all.toString(StandardCharsets.UTF_8);
  }

  static byte[] gzip(byte[] plain) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(plain);
    }
    return out.toByteArray();
  }

  static byte[] deflate(byte[] plain, boolean raw) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DeflaterOutputStream z = new DeflaterOutputStream(out,
        new Deflater(Deflater.DEFAULT_COMPRESSION, raw))) {
      z.write(plain);
    }
    return out.toByteArray();
  }
}
