package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Errors Jetty answers before a request reaches the router, a wrong method and the headers every
 * answer carries: all in the adapter's JSON error shape, sent over a raw socket because the JDK's
 * client refuses to send a malformed request.
 */
class JettyErrorsTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static ModelServer server;
  static HttpAdapter http;

  @BeforeAll
  static void start() throws Exception {
    server = ModelServer.builder().backend(FakeBackend.create()).discoverBackends(false).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    http = HttpAdapter.builder(server).port(0).build();
    http.start();
  }

  @AfterAll
  static void stop() {
    http.close();
    server.close();
  }

  /** An answer read off the wire: status, headers in lower case, body. */
  record Raw(int status, String head, String body) {
    String header(String name) {
      for (String line : head.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
          return line.substring(colon + 1).trim();
        }
      }
      return "";
    }

    JsonNode json() throws Exception {
      return JSON.readTree(body);
    }
  }

  static Raw send(String target, String extraHeaders) throws Exception {
    try (Socket s = new Socket("127.0.0.1", http.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      String request = "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extraHeaders
          + "Connection: close\r\n\r\n";
      try {
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      } catch (SocketException e) {
        // Jetty may answer and close before it has read all of an oversized request.
      }
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = in.read(buf)) >= 0; ) {
          got.write(buf, 0, n);
        }
      } catch (SocketException e) {
        // a reset after the answer: what was read is the answer
      }
      String text = got.toString(StandardCharsets.ISO_8859_1);
      int split = text.indexOf("\r\n\r\n");
      assertThat(split).as("an answer with headers: %s", text).isPositive();
      String head = text.substring(0, split);
      int status = Integer.parseInt(head.substring(9, 12));
      return new Raw(status, head, text.substring(split + 4));
    }
  }

  static void assertJsonError(Raw r, int status) throws Exception {
    assertThat(r.status()).as(r.head()).isEqualTo(status);
    assertThat(r.header("Content-Type").toLowerCase(Locale.ROOT)).startsWith("application/json");
    assertThat(r.json().get("error").asText()).isNotBlank();
    assertThat(r.header("Server")).isEmpty();
  }

  @Test
  void badPercentEncodingIs400Json() throws Exception {
    assertJsonError(send("/api/%zz", ""), 400);
  }

  @Test
  void aUriTooLongIs414Json() throws Exception {
    assertJsonError(send("/api/" + "a".repeat(9 * 1024), ""), 414);
  }

  @Test
  void headersTooLargeAre431Json() throws Exception {
    assertJsonError(send("/health", "X-Big: " + "b".repeat(64 * 1024) + "\r\n"), 431);
  }

  @Test
  void aWrongMethodIs405WithAllow() throws Exception {
    Raw r = send("/api/predict", "");
    assertJsonError(r, 405);
    assertThat(r.header("Allow")).isEqualTo("POST");
  }

  @Test
  void aNormalAnswerNamesNoServer() throws Exception {
    Raw r = send("/health", "");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.head().toLowerCase(Locale.ROOT)).doesNotContain("\r\nserver:")
        .doesNotContain("x-powered-by");
  }
}
