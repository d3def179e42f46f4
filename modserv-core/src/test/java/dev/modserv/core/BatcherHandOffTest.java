package dev.modserv.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.testkit.FakeBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Which thread runs a batch (docs/contributing/concurrency.md): a caller's, when its own request
 * forms the batch and it waits anyway or the engine is short; the executor's otherwise, where a
 * batch that can go when the engine returns runs next on the same thread.
 */
class BatcherHandOffTest {
  /** The threads of the engine calls, in order. */
  private final List<Thread> engineThreads = new CopyOnWriteArrayList<>();

  private ModelServer server(FakeBackend.Builder backend, int maxBatchSize) {
    return server(backend, maxBatchSize, inputs -> { });
  }

  private ModelServer server(FakeBackend.Builder backend, int maxBatchSize,
      Consumer<Map<String, Tensor>> duringRun) {
    ModelServer server = ModelServer.builder()
        .backend(backend.duringRun(inputs -> {
          engineThreads.add(Thread.currentThread());
          duringRun.accept(inputs);
        }).build())
        .discoverBackends(false).build();
    server.registry().configure("m", ModelConfig.builder().batching(BatchingPolicy.builder()
        .maxBatchSize(maxBatchSize).maxQueueDelay(Duration.ZERO).instances(1).build()).build());
    server.registry().load("m", 1, Path.of("m.fake")).join();
    engineThreads.clear();   // the load's warm-up call
    return server;
  }

  private static InferenceRequest request(float first) {
    return InferenceRequest.builder("m")
        .input("x", Tensor.of(new float[] {first, 2, 3, 4}, 1, 4)).build();
  }

  @Test
  void inferAsyncRunsAShortBatchOnTheCallingThreadAndReturnsItDone() {
    try (ModelServer server = server(FakeBackend.builder(), 8)) {
      // Recent batches measure the engine; a cold first one (class loading, the JIT) may be slow.
      for (int i = 0; i < 50; i++) {
        server.inferAsync(request(1)).join();
      }
      CompletableFuture<InferenceResult> answered = server.inferAsync(request(1));
      assertThat(answered).isDone();
      assertThat(answered.join().outputs()).containsKey("y");
      assertThat(engineThreads.get(engineThreads.size() - 1)).isSameAs(Thread.currentThread());
    }
  }

  @Test
  void inferAsyncLeavesASlowEngineToTheExecutor() {
    try (ModelServer server = server(FakeBackend.builder().cost(Duration.ofMillis(2)), 8)) {
      for (int i = 0; i < 3; i++) {
        server.inferAsync(request(1)).join();
      }
      assertThat(engineThreads).hasSize(3).doesNotContain(Thread.currentThread());
    }
  }

  @Test
  void batchesQueuedWhileTheEngineRunsRunNextOnTheSameExecutorThread() throws Exception {
    Gate gate = new Gate();
    try (ModelServer server = server(FakeBackend.builder(), 1, gate)) {
      CompletableFuture<InferenceResult> held = server.inferAsync(request(42));
      gate.awaitEntered();
      // The instance is busy: these wait in the queue, one batch each (maxBatchSize 1).
      CompletableFuture<InferenceResult> second = server.inferAsync(request(1));
      CompletableFuture<InferenceResult> third = server.inferAsync(request(1));
      gate.open();
      for (CompletableFuture<InferenceResult> f : List.of(held, second, third)) {
        assertThat(f.get(10, TimeUnit.SECONDS).outputs()).containsKey("y");
      }
      assertThat(engineThreads).hasSize(3).doesNotContain(Thread.currentThread());
      assertThat(engineThreads).as("the executor thread chains the queued batches")
          .containsOnly(engineThreads.get(0));
    }
  }

  @Test
  void aCallersThreadAnswersItsBatchAndLeavesTheNextToTheExecutor() throws Exception {
    Gate gate = new Gate();
    try (ModelServer server = server(FakeBackend.builder(), 1, gate)) {
      CompletableFuture<InferenceResult> caller = new CompletableFuture<>();
      Thread callerThread = Thread.ofPlatform().start(() -> {
        try {
          caller.complete(server.infer(request(42)));
        } catch (RuntimeException e) {
          caller.completeExceptionally(e);
        }
      });
      gate.awaitEntered();
      CompletableFuture<InferenceResult> queued = server.inferAsync(request(1));
      gate.open();
      assertThat(caller.get(10, TimeUnit.SECONDS).outputs()).containsKey("y");
      assertThat(queued.get(10, TimeUnit.SECONDS).outputs()).containsKey("y");
      assertThat(engineThreads).hasSize(2);
      assertThat(engineThreads.get(0)).isSameAs(callerThread);
      assertThat(engineThreads.get(1)).isNotSameAs(callerThread);
    }
  }
}
