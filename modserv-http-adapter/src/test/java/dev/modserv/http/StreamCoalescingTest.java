package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.Capability;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.api.Usage;
import dev.modserv.core.ModelServer;
import dev.modserv.spi.Backend;
import dev.modserv.spi.GenerationHandle;
import dev.modserv.spi.GenerationSink;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A streamed answer is written without blocking the engine's thread: chunks that come while the
 * client is behind go out together, in fewer writes than chunks, and none is lost or reordered.
 */
class StreamCoalescingTest {
  /** Several times more SSE bytes (about 200 a token) than the server's socket buffer holds. */
  static final int TOKENS = 100_000;

  /**
   * Generates {@code maxTokens} tokens "t0 ", "t1 ", ... on a thread: the first, then, once the
   * test says {@link #go}, the rest as fast as it can.
   */
  static final class Burst implements Backend {
    /**
     * Counted down by the test once it has read the answer's head: the burst then comes while the
     * client is not reading, and the engine's own thread writes it (the request's thread delivers
     * what the engine queued before it listened, and would go on delivering a burst queued
     * meanwhile).
     */
    final CountDownLatch go = new CountDownLatch(1);
    /**
     * Counted down once the engine has handed over the test request's last chunk (not the
     * warm-up's, which would let the client read before the burst).
     */
    final CountDownLatch generated = new CountDownLatch(1);

    private boolean awaitGo() {
      try {
        return go.await(2, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }

    @Override
    public String name() {
      return "burst";
    }

    @Override
    public boolean supports(ModelSource source) {
      return source.fileName().endsWith(".burst");
    }

    @Override
    public LoadedModel load(ModelSource source) {
      ModelMetadata metadata = ModelMetadata.builder("burst")
          .capabilities(Capability.GENERATIVE).build();
      return new LoadedModel() {
        @Override
        public ModelMetadata metadata() {
          return metadata;
        }

        @Override
        public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs) {
          throw new UnsupportedOperationException();
        }

        @Override
        public GenerationHandle generate(GenerationRequest request, GenerationSink sink) {
          Thread.ofPlatform().daemon().start(() -> {
            sink.prompt(1);
            sink.token("t0 ", 1);
            // Only the test's request waits: the load's warm-up generates a few tokens at once.
            if (request.maxTokens() == TOKENS && !awaitGo()) {
              sink.fail(new IllegalStateException("the test never said go"));
              return;
            }
            for (int i = 1; i < request.maxTokens(); i++) {
              sink.token("t" + i + " ", 1);
            }
            sink.complete(FinishReason.LENGTH, new Usage(1, request.maxTokens()));
            if (request.maxTokens() == TOKENS) {
              generated.countDown();
            }
          });
          return () -> { };
        }

        @Override
        public void close() {}
      };
    }
  }

  @Test
  void chunksThatComeWhileTheClientIsBehindGoOutTogetherAndInOrder() throws Exception {
    Burst burst = new Burst();
    try (ModelServer server = ModelServer.builder().backend(burst)
        .discoverBackends(false).build()) {
      server.registry().load("burst", 1, Path.of("b.burst")).join();
      try (HttpAdapter http = HttpAdapter.builder(server).port(0).build()) {
        http.start();
        byte[] body = ("{\"model\":\"burst\",\"messages\":[{\"role\":\"user\",\"content\":\"go\"}],"
            + "\"max_tokens\":" + TOKENS + ",\"stream\":true}").getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket()) {
          // Small and fixed (no autotuning): the server's socket buffer fills, and writes wait.
          socket.setReceiveBufferSize(16 * 1024);
          socket.setSoTimeout(120_000); // a failure here fails the test; it does not hang the build
          socket.connect(new InetSocketAddress("127.0.0.1", http.port()));
          OutputStream out = socket.getOutputStream();
          out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type:"
              + " application/json\r\nContent-Length: " + body.length
              + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          out.write(body);
          out.flush();
          InputStream in = socket.getInputStream();
          String head = readHead(in);
          assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase(
              "transfer-encoding: chunked");
          // Behind: the engine is done before the client reads a byte after the head (a timed
          // sleep was not enough on a loaded machine, where the client then kept up).
          burst.go.countDown();
          assertThat(burst.generated.await(2, TimeUnit.MINUTES)).as("all tokens generated").isTrue();
          ByteArrayOutputStream events = new ByteArrayOutputStream();
          int chunks = 0;
          for (int size; (size = Integer.parseInt(line(in), 16)) > 0; ) {
            events.write(in.readNBytes(size));
            line(in);
            chunks++;
          }
          String text = events.toString(StandardCharsets.UTF_8);
          // The role event, one event a token, the finish event, then [DONE].
          assertThat(text.split("\n\n")).hasSize(TOKENS + 3);
          assertThat(text).contains("\"content\":\"t0 \"")
              .contains("\"content\":\"t" + (TOKENS - 1) + " \"").endsWith("data: [DONE]\n\n");
          int previous = -1;
          for (String event : text.split("\n\n")) {
            int at = event.indexOf("\"content\":\"t");
            if (at >= 0) {
              int n = Integer.parseInt(event.substring(at + 12, event.indexOf(' ', at)));
              assertThat(n).isEqualTo(previous + 1);
              previous = n;
            }
          }
          assertThat(previous).isEqualTo(TOKENS - 1);
          // One write per chunk makes TOKENS + 1 chunks. Until the socket buffers are full each
          // write goes at once on its own (how many bytes that takes is the kernel's business:
          // 23k to 77k tokens were seen here); after that, chunks go out together.
          assertThat(chunks).isLessThan(TOKENS);
        }
      }
    }
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    for (String l; !(l = line(in)).isEmpty(); ) {
      head.append(l).append('\n');
    }
    return head.toString();
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder s = new StringBuilder();
    for (int c; (c = in.read()) != '\n'; ) {
      if (c < 0) {
        throw new IOException("the answer ended early");
      }
      if (c != '\r') {
        s.append((char) c);
      }
    }
    return s.toString();
  }
}
