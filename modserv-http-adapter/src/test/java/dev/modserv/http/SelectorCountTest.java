package dev.modserv.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelState;
import dev.modserv.testkit.FakeBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The selectors a connector has: bounded, chosen once, and as many threads as asked for. */
class SelectorCountTest {
  @Test
  void theCountIsBoundedAndChosenOnce() {
    try (ModelServer server = ModelServer.builder().discoverBackends(false).build()) {
      for (int bad : new int[] {0, -1, HttpAdapter.MAX_SELECTORS + 1, Integer.MIN_VALUE}) {
        assertThatThrownBy(() -> HttpAdapter.builder(server).selectors(bad))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("selectors must be in 1.." + HttpAdapter.MAX_SELECTORS);
      }
      HttpAdapter.Builder b = HttpAdapter.builder(server).selectors(HttpAdapter.MAX_SELECTORS);
      assertThatThrownBy(() -> b.selectors(2)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("selectors");
    }
  }

  @Test
  void eachConnectorGetsTheSelectorsAskedFor(@TempDir Path dir) throws Exception {
    try (ModelServer server = ModelServer.builder().backend(FakeBackend.create())
        .discoverBackends(false).build()) {
      assertThat(server.registry().load("m", 1, Path.of("m.fake")).join().state())
          .isEqualTo(ModelState.READY);
      int before = selectorThreads();
      Path socket = Files.createDirectories(dir.resolve("s")).resolve("m.sock");
      try (HttpAdapter http = HttpAdapter.builder(server).port(0).unixSocket(socket).selectors(3)
          .build()) {
        http.start();
        // Three for TCP and three for the socket, each waiting in its selector once started.
        awaitSelectorThreads(before + 6);
        SelectorSpinTest.predictOneAfterAnother(http.port(), 12);
      }
      awaitSelectorThreads(before);
    }
  }

  private static void awaitSelectorThreads(int expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    int seen = selectorThreads();
    while (seen != expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
      seen = selectorThreads();
    }
    assertThat(seen).as("threads waiting in a round selector").isEqualTo(expected);
  }

  /** Threads whose stack is in a round selector's wait: one for each selector, when idle. */
  private static int selectorThreads() {
    return (int) Thread.getAllStackTraces().values().stream()
        .filter(stack -> Arrays.stream(stack).anyMatch(frame ->
            frame.getClassName().equals("dev.modserv.http.internal.RoundSelector")
                && frame.getMethodName().equals("nioSelect")))
        .count();
  }
}
