package dev.modserv.core;

import static dev.modserv.core.ModelServerTest.assertFailed;
import static dev.modserv.core.ModelServerTest.row;
import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.FakeModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Closing a native model runs on a close thread of its own: a close that blocks for seconds holds
 * up no other model's batch window or deadline (they fire on the timer thread), and the server's
 * close still waits for it.
 */
class CloseThreadTest {
  private static final float HOLD = 99;

  private static boolean isSlow(FakeModel model) {
    return model.source().location().toString().startsWith("slow");
  }

  @Test
  void aBlockedCloseDelaysNoBatchWindowAndNoDeadline() throws Exception {
    CountDownLatch closeEntered = new CountDownLatch(1);
    CountDownLatch letCloseFinish = new CountDownLatch(1);
    CountDownLatch letRunFinish = new CountDownLatch(1);
    AtomicReference<String> closeThread = new AtomicReference<>();
    FakeBackend backend = FakeBackend.builder()
        .duringClose(model -> {
          if (isSlow(model)) {
            closeThread.set(Thread.currentThread().getName());
            closeEntered.countDown();
            awaitQuietly(letCloseFinish, 5);     // an engine whose close takes up to 5 s
          }
        })
        .duringRun(inputs -> {
          if (inputs.get("x").floatBuffer().get(0) == HOLD) {
            awaitQuietly(letRunFinish, 5);
          }
        })
        .build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      // 'slow' unloads as soon as it is idle: the keep-alive check runs on the timer thread.
      server.registry().configure("slow", ModelConfig.builder().keepAlive(Duration.ZERO).build());
      server.registry().register("slow", 1, Path.of("slow.fake"));
      server.registry().configure("other", ModelConfig.builder().batching(BatchingPolicy.builder()
          .maxBatchSize(8).maxQueueDelay(Duration.ofMillis(100)).instances(1).build()).build());
      server.registry().load("other", 1, Path.of("other.fake")).join();

      server.infer("slow", row(1, 1, 1, 1));
      assertThat(closeEntered.await(10, TimeUnit.SECONDS)).as("slow's close started").isTrue();

      // While slow's close blocks: a lone request's batch window (100 ms) fires on time.
      long start = System.nanoTime();
      InferenceResult windowed = server.inferAsync(InferenceRequest.builder("other")
          .inputs(row(1, 1, 1, 1)).build()).get(1, TimeUnit.SECONDS);
      assertThat(windowed.requireOutput("y").toFloatArray()).containsExactly(2, 2, 2, 2);

      // And a queued request's deadline (300 ms) fires on time, behind a batch held in the engine.
      CompletableFuture<InferenceResult> held = server.inferAsync(InferenceRequest.builder("other")
          .inputs(row(HOLD, 0, 0, 0)).build());
      eventually(() -> backend.loaded().stream().anyMatch(m -> !isSlow(m) && m.activeRuns() == 1));
      CompletableFuture<InferenceResult> late = server.inferAsync(InferenceRequest.builder("other")
          .inputs(row(2, 2, 2, 2)).timeout(Duration.ofMillis(300)).build());
      assertFailed(late, ErrorCode.TIMEOUT, "");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
      assertThat(closeEntered.getCount()).isZero();
      assertThat(letCloseFinish.getCount()).as("slow's close is still blocked").isOne();

      letRunFinish.countDown();
      assertThat(held.get(10, TimeUnit.SECONDS).requireOutput("y").toFloatArray())
          .containsExactly(2 * HOLD, 0, 0, 0);
      letCloseFinish.countDown();
      FakeModel slow = backend.loaded().stream().filter(CloseThreadTest::isSlow).findFirst()
          .orElseThrow();
      eventually(() -> server.registry().versions("slow").isEmpty());
      assertThat(slow.closeCalls()).isEqualTo(1);
      assertThat(closeThread.get()).startsWith("modserv-close-");
    } finally {
      letRunFinish.countDown();
      letCloseFinish.countDown();
    }
  }

  @Test
  void closingTheServerWaitsForModelsToClose() {
    AtomicBoolean closeFinished = new AtomicBoolean();
    AtomicReference<String> closeThread = new AtomicReference<>();
    FakeBackend backend = FakeBackend.builder()
        .duringClose(model -> {
          closeThread.set(Thread.currentThread().getName());
          sleepQuietly(Duration.ofMillis(300));
          closeFinished.set(true);
        })
        .build();
    ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false).build();
    server.registry().load("m", 1, Path.of("m.fake")).join();
    server.close();
    assertThat(closeFinished).as("the model's close finished before the server's").isTrue();
    assertThat(backend.loaded().get(0).closeCalls()).isEqualTo(1);
    assertThat(closeThread.get()).startsWith("modserv-close-");
  }

  private static void eventually(java.util.function.BooleanSupplier condition) {
    ModelCacheTest.eventually(condition, "condition");
  }

  private static void awaitQuietly(CountDownLatch latch, int seconds) {
    try {
      latch.await(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleepQuietly(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
