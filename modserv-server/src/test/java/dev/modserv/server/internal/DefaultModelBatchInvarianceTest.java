package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.onnx.AllMiniLmL6V2;
import dev.modserv.onnx.OnnxBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default model gives a text the same vector whoever it is batched with: "hello" alone and
 * "hello" stacked by the batcher with 31 longer texts from 31 other callers agree to cosine
 * 0.99999 (the int8 model of the {@code -q} artifact gives 0.973, as it quantises per batch).
 */
class DefaultModelBatchInvarianceTest {
  private static final String PROBE = "hello";

  @TempDir Path tmp;

  @Test
  void aTextGetsTheSameVectorAloneAndStackedWithOtherCallersTexts() throws Exception {
    Path dir = AllMiniLmL6V2.extract(tmp);
    RecordingBackend backend = new RecordingBackend(new OnnxBackend());
    // A batch goes when 32 rows are queued, so the 32 callers below stack into one engine call.
    ModelConfig stacking = ModelConfig.builder().warmup(false)
        .batching(BatchingPolicy.builder().maxBatchSize(32).preferredBatchSizes(32)
            .maxQueueDelay(Duration.ofSeconds(5)).build())
        .build();
    try (ModelServer server = ModelServer.builder().discoverBackends(false).backend(backend)
        .build()) {
      server.registry().configure(AllMiniLmL6V2.NAME, stacking);
      server.registry().load(AllMiniLmL6V2.NAME, 1, dir).join();
      float[] alone = embedAlone(server);

      List<String> others = new ArrayList<>();
      for (int i = 0; i < 31; i++) {
        others.add("Sentence number " + i + " is a much longer text than the probe, so the batch"
            + " it runs in is padded well past the probe's own " + (i % 7 + 3) + " tokens.");
      }
      ExecutorService callers = Executors.newFixedThreadPool(32);
      try {
        CyclicBarrier start = new CyclicBarrier(32);
        CompletableFuture<float[]> probe = CompletableFuture.supplyAsync(
            () -> embedAfter(start, server, PROBE), callers);
        List<CompletableFuture<float[]>> rest = new ArrayList<>();
        for (String other : others) {
          rest.add(CompletableFuture.supplyAsync(() -> embedAfter(start, server, other),
              callers));
        }
        float[] stacked = probe.get(2, TimeUnit.MINUTES);
        for (CompletableFuture<float[]> r : rest) {
          r.get(2, TimeUnit.MINUTES);
        }
        assertThat(backend.rowsOfRunsWith(PROBE)).as("rows of each engine call holding the probe")
            .containsExactly(1, 32);
        assertThat(cosine(alone, stacked)).isGreaterThanOrEqualTo(0.99999);
      } finally {
        callers.shutdownNow();
      }
    }
  }

  /** With a preferred size of 32 a lone request waits the queue delay, then runs alone. */
  private static float[] embedAlone(ModelServer server) {
    return server.embed(AllMiniLmL6V2.NAME, List.of(PROBE))[0];
  }

  private static float[] embedAfter(CyclicBarrier start, ModelServer server, String text) {
    try {
      start.await(1, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return server.embed(AllMiniLmL6V2.NAME, List.of(text))[0];
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
