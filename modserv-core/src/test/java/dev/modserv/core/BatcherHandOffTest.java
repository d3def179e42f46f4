package dev.modserv.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.testkit.FakeBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Which thread runs a batch (docs/contributing/concurrency.md): a caller's, when its own request
 * forms the batch and it waits anyway or the engine is short; an event loop's, at the end of the
 * round that read its calls, when the engine is short; the executor's otherwise, where a batch
 * that can go when the engine returns runs next on the same thread.
 */
class BatcherHandOffTest {
  /** The threads of the engine calls, in order. */
  private final List<Thread> engineThreads = new CopyOnWriteArrayList<>();
  /** The rows of each engine call, in order. */
  private final List<Long> batchRows = new CopyOnWriteArrayList<>();

  /**
   * An event loop's round end that the test ends by hand, on its own thread: tasks run in the
   * order given, and a task given again runs once, in its last place ({@link RoundEnd}).
   */
  private static final class TestRound implements RoundEnd {
    private final List<Runnable> tasks = new ArrayList<>();

    @Override
    public synchronized void runAtEnd(Runnable task) {
      tasks.removeIf(given -> given == task);
      tasks.add(task);
    }

    void end() {
      List<Runnable> now;
      synchronized (this) {
        now = new ArrayList<>(tasks);
        tasks.clear();
      }
      now.forEach(Runnable::run);
    }
  }

  private ModelServer server(FakeBackend.Builder backend, int maxBatchSize) {
    return server(backend, maxBatchSize, inputs -> { });
  }

  private ModelServer server(FakeBackend.Builder backend, int maxBatchSize,
      Consumer<Map<String, Tensor>> duringRun) {
    ModelServer server = ModelServer.builder()
        .backend(backend.duringRun(inputs -> {
          engineThreads.add(Thread.currentThread());
          batchRows.add(inputs.get("x").dim(0));
          duringRun.accept(inputs);
        }).build())
        .discoverBackends(false).build();
    server.registry().configure("m", ModelConfig.builder().batching(BatchingPolicy.builder()
        .maxBatchSize(maxBatchSize).maxQueueDelay(Duration.ZERO).instances(1).build()).build());
    server.registry().load("m", 1, Path.of("m.fake")).join();
    engineThreads.clear();   // the load's warm-up call
    batchRows.clear();
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

  private void warmUp(ModelServer server) {
    // Recent batches measure the engine; cold ones (class loading, the JIT) may be slow, and a
    // batch of two rows counts twice a row until batches of other sizes have run.
    for (int i = 0; i < 2_000; i++) {
      server.inferAsync(request(1)).join();
    }
    engineThreads.clear();
    batchRows.clear();
  }

  @Test
  void aRoundsCallsGoAsOneBatchOnTheLoopsThreadAtItsEnd() {
    try (ModelServer server = server(FakeBackend.builder(), 8)) {
      warmUp(server);
      TestRound round = new TestRound();
      List<CompletableFuture<InferenceResult>> calls = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        calls.add(server.inferAsync(request(i), ModelProcessing.NOT_GIVEN, round));
      }
      assertThat(calls).noneMatch(CompletableFuture::isDone);
      assertThat(engineThreads).as("nothing runs before the round ends").isEmpty();
      round.end();
      assertThat(calls).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
      assertThat(batchRows).containsExactly(2L);
      assertThat(engineThreads).containsExactly(Thread.currentThread());
    }
  }

  @Test
  void anotherLoopsRoundEndLeavesItsCallsAlone() {
    try (ModelServer server = server(FakeBackend.builder(), 8)) {
      warmUp(server);
      TestRound first = new TestRound();
      TestRound second = new TestRound();
      CompletableFuture<InferenceResult> mine =
          server.inferAsync(request(1), ModelProcessing.NOT_GIVEN, first);
      List<CompletableFuture<InferenceResult>> theirs = List.of(
          server.inferAsync(request(2), ModelProcessing.NOT_GIVEN, second),
          server.inferAsync(request(3), ModelProcessing.NOT_GIVEN, second));
      first.end();
      assertThat(mine).isDone();
      assertThat(theirs).noneMatch(CompletableFuture::isDone);
      second.end();
      assertThat(theirs).allMatch(CompletableFuture::isDone);
      assertThat(batchRows).containsExactly(1L, 2L);
    }
  }

  @Test
  void aSlowEngineAtARoundsEndGoesToTheExecutor() throws Exception {
    try (ModelServer server = server(FakeBackend.builder().cost(Duration.ofMillis(2)), 8)) {
      for (int i = 0; i < 3; i++) {
        server.inferAsync(request(1)).join();
      }
      TestRound round = new TestRound();
      CompletableFuture<InferenceResult> a =
          server.inferAsync(request(1), ModelProcessing.NOT_GIVEN, round);
      CompletableFuture<InferenceResult> b =
          server.inferAsync(request(2), ModelProcessing.NOT_GIVEN, round);
      round.end();
      assertThat(a.get(10, TimeUnit.SECONDS).outputs()).containsKey("y");
      assertThat(b.get(10, TimeUnit.SECONDS).outputs()).containsKey("y");
      assertThat(engineThreads).hasSize(4).doesNotContain(Thread.currentThread());
      assertThat(batchRows.get(3)).as("the round's calls still go as one batch").isEqualTo(2L);
    }
  }

  @Test
  void aRoundsCallsThatFindNoFreeInstanceRunWhenOneIsGivenBack() throws Exception {
    Gate gate = new Gate();
    try (ModelServer server = server(FakeBackend.builder(), 8, gate)) {
      CompletableFuture<InferenceResult> held = server.inferAsync(request(42));
      gate.awaitEntered();
      TestRound round = new TestRound();
      CompletableFuture<InferenceResult> a =
          server.inferAsync(request(1), ModelProcessing.NOT_GIVEN, round);
      CompletableFuture<InferenceResult> b =
          server.inferAsync(request(2), ModelProcessing.NOT_GIVEN, round);
      round.end();   // the one instance is busy: the calls wait in the queue
      assertThat(a).isNotDone();
      gate.open();
      for (CompletableFuture<InferenceResult> f : List.of(held, a, b)) {
        assertThat(f.get(10, TimeUnit.SECONDS).outputs()).containsKey("y");
      }
      assertThat(batchRows).containsExactly(1L, 2L);
      assertThat(engineThreads).doesNotContain(Thread.currentThread());
    }
  }

  private ModelServer smallQueue(int maxQueueSize, Gate gate) {
    ModelServer server = ModelServer.builder()
        .backend(FakeBackend.builder().duringRun(inputs -> {
          batchRows.add(inputs.get("x").dim(0));
          gate.accept(inputs);
        }).build())
        .discoverBackends(false).build();
    server.registry().configure("m", ModelConfig.builder().batching(BatchingPolicy.builder()
        .maxBatchSize(8).maxQueueSize(maxQueueSize).maxQueueDelay(Duration.ZERO).instances(1)
        .build()).build());
    server.registry().load("m", 1, Path.of("m.fake")).join();
    batchRows.clear();
    return server;
  }

  @Test
  void aRoundsCallOverTheQueueLimitIsRefusedAtTheRoundsEndWhenNothingCanRun() throws Exception {
    Gate gate = new Gate();
    try (ModelServer server = smallQueue(1, gate)) {
      CompletableFuture<InferenceResult> held = server.inferAsync(request(42));
      gate.awaitEntered();   // the one instance is busy: nothing queued can run
      TestRound round = new TestRound();
      List<CompletableFuture<InferenceResult>> calls = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        calls.add(server.inferAsync(request(i), ModelProcessing.NOT_GIVEN, round));
      }
      round.end();
      // A queue of one: the first call is queued at the round's end, the others find it full.
      for (CompletableFuture<InferenceResult> refused : calls.subList(1, 3)) {
        assertThat(refused).isCompletedExceptionally();
        assertThatThrownBy(refused::join).cause().isInstanceOf(ModelServingException.class)
            .extracting(e -> ((ModelServingException) e).code()).isEqualTo(ErrorCode.QUEUE_FULL);
      }
      gate.open();
      assertThat(held).succeedsWithin(Duration.ofSeconds(10));
      assertThat(calls.get(0)).succeedsWithin(Duration.ofSeconds(10));
    }
  }

  @Test
  void aRoundWithMoreCallsThanTheQueueHoldsRunsWhatIsQueuedFirst() {
    Gate open = new Gate();
    open.open();
    try (ModelServer server = smallQueue(2, open)) {
      warmUp(server);
      TestRound round = new TestRound();
      List<CompletableFuture<InferenceResult>> calls = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        calls.add(server.inferAsync(request(i), ModelProcessing.NOT_GIVEN, round));
      }
      round.end();
      // Queued one by one, each would have run while the queue had room; so do they here.
      assertThat(calls).allSatisfy(f -> assertThat(f).succeedsWithin(Duration.ofSeconds(10)));
      assertThat(batchRows.stream().mapToLong(Long::longValue).sum()).isEqualTo(5);
    }
  }
}
