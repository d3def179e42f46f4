package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the adapter does with the file already at its Unix socket path, and with its own. */
class UnixSocketTest {
  static ModelServer server;
  @TempDir Path dir;

  @BeforeAll
  static void start() {
    server = ModelServer.builder().backend(FakeBackend.create()).discoverBackends(false).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static HttpAdapter adapter(Path socket) {
    return HttpAdapter.builder(server).port(0).unixSocket(socket).build();
  }

  static String health(Path socket) throws Exception {
    String request = "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    StringBuilder answer = new StringBuilder();
    try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
      ByteBuffer buf = ByteBuffer.allocate(8192);
      while (ch.read(buf) >= 0) {
        buf.flip();
        answer.append(StandardCharsets.UTF_8.decode(buf));
        buf.clear();
      }
    }
    return answer.toString();
  }

  static Object key(Path p) throws Exception {
    return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
  }

  @Test
  void aRegularFileIsLeftAloneAndStartFailsNamingIt() throws Exception {
    Path socket = Files.writeString(dir.resolve("data.sock"), "precious");
    HttpAdapter a = adapter(socket);
    assertThatThrownBy(a::start).isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining(socket.toString()).hasMessageContaining("not a socket");
    a.close();
    assertThat(Files.readString(socket)).isEqualTo("precious");
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(socket);
    }
  }

  @Test
  void theLiveSocketOfAnotherServerIsLeftAloneAndStartFails() throws Exception {
    Path socket = dir.resolve("live.sock");
    try (HttpAdapter first = adapter(socket)) {
      first.start();
      Object firstKey = key(socket);
      HttpAdapter second = adapter(socket);
      assertThatThrownBy(second::start).isInstanceOf(UncheckedIOException.class)
          .hasMessageContaining(socket.toString()).hasMessageContaining("another server");
      second.close();
      assertThat(key(socket)).isEqualTo(firstKey);
      assertThat(health(socket)).startsWith("HTTP/1.1 200");
    }
    assertThat(socket).doesNotExist();
  }

  @Test
  void aStaleSocketIsReplacedAndTheServerStarts() throws Exception {
    Path socket = dir.resolve("stale.sock");
    try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      dead.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(socket).exists(); // closing a channel leaves its file, as a killed server does
    try (HttpAdapter a = adapter(socket)) {
      a.start();
      // the stale socket answers nobody, so an answer comes from the new one (its inode may be reused)
      assertThat(health(socket)).startsWith("HTTP/1.1 200");
    }
    assertThat(socket).doesNotExist();
    try (var files = Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void closeLeavesAFileThatReplacedItsSocket() throws Exception {
    Path socket = dir.resolve("moved.sock");
    HttpAdapter a = adapter(socket);
    a.start();
    Files.delete(socket);
    Files.writeString(socket, "someone else's");
    a.close();
    assertThat(Files.readString(socket)).isEqualTo("someone else's");
  }
}
