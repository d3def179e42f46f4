package dev.modserv.llama;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Loading and unloading in worker mode returns the memory: the model lives and dies with its
 * worker process, so 50 cycles leave this JVM's resident memory where it was.
 */
class LoadUnloadCyclesTest {

  private static long rssKib() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }

  private static void cycle(LlamaBackend backend) throws Exception {
    try (LoadedModel m = backend.load(ModelSource.of(Fixtures.tiny())
        .withOption("context-size", "256").withOption("threads", "1"))) {
      Collector c = new Collector();
      m.generate(GenerationRequest.builder("m").prompt("hi").maxTokens(2).temperature(0)
          .build(), c);
      assertThat(c.await().reason()).isEqualTo(FinishReason.LENGTH);
    }
  }

  @Test
  void fiftyLoadUnloadCyclesDoNotGrowTheParentsMemory() throws Exception {
    LlamaBackend backend = new LlamaBackend();
    for (int i = 0; i < 5; i++) {
      cycle(backend);       // warm-up: classes, JIT, thread pools
    }
    System.gc();
    long before = rssKib();
    for (int i = 0; i < 50; i++) {
      cycle(backend);
    }
    System.gc();
    long after = rssKib();
    // In process, each cycle would leak the model and a native thread (about 1 MB each here,
    // 64 MB at a 64k context); a worker's whole process goes instead.
    assertThat(after - before).as("RSS growth in KiB over 50 cycles").isLessThan(16 * 1024);
    assertThat(Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("modserv-llama-reader")).count()).isZero();
  }
}
