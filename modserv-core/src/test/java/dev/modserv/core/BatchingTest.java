package dev.modserv.core;

import static dev.modserv.core.ModelServerTest.assertCode;
import static dev.modserv.core.ModelServerTest.assertFailed;
import static dev.modserv.core.ModelServerTest.row;
import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.testkit.FakeBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The batcher through ModelServer: stacking, padding, refusals. */
class BatchingTest {
  private static final Path MODEL = Path.of("m.fake");

  private static InferenceRequest request(float value, int rows) {
    float[] x = new float[rows * 4];
    java.util.Arrays.fill(x, value);
    return InferenceRequest.builder("m").input("x", Tensor.of(x, rows, 4)).build();
  }

  @Test
  void requestsQueuedWhileTheInstanceIsBusyGoAsOneBatch() throws Exception {
    Gate gate = new Gate();
    FakeBackend backend = FakeBackend.builder().duringRun(gate).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().configure("m", ModelConfig.builder().warmup(false).build());
      server.registry().load("m", 1, MODEL).join();
      CompletableFuture<InferenceResult> blocker = server.inferAsync(request(42, 1));
      gate.awaitEntered();
      CompletableFuture<InferenceResult> a = server.inferAsync(request(1, 2));
      CompletableFuture<InferenceResult> b = server.inferAsync(request(2, 3));
      gate.open();
      assertThat(a.get(10, TimeUnit.SECONDS).requireOutput("y").toFloatArray())
          .hasSize(8).containsOnly(2f);
      assertThat(b.get(10, TimeUnit.SECONDS).requireOutput("y").toFloatArray())
          .hasSize(12).containsOnly(4f);
      blocker.get(10, TimeUnit.SECONDS);
      assertThat(backend.loaded().get(0).rowsPerRun()).containsExactly(1L, 5L);
    }
  }

  @Test
  void paddedInputsStackAndOutputsAreTrimmedBackPerRequest() throws Exception {
    ModelMetadata sequences = ModelMetadata.builder("fake")
        .input(TensorSpec.of("x", DataType.FP32, -1, -1))
        .output(TensorSpec.of("y", DataType.FP32, -1, -1))
        .build();
    Gate gate = new Gate();
    FakeBackend backend = FakeBackend.builder().metadata(sequences).duringRun(gate).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().configure("m", ModelConfig.builder().warmup(false)
          .batching(BatchingPolicy.builder().pad("x", -1).trimOutput("y", 1).build()).build());
      server.registry().load("m", 1, MODEL).join();
      CompletableFuture<InferenceResult> blocker = server.inferAsync(InferenceRequest
          .builder("m").input("x", Tensor.of(new float[] {42}, 1, 1)).build());
      gate.awaitEntered();
      CompletableFuture<InferenceResult> shortOne = server.inferAsync(InferenceRequest
          .builder("m").input("x", Tensor.of(new float[] {1, 2}, 1, 2)).build());
      CompletableFuture<InferenceResult> longOne = server.inferAsync(InferenceRequest
          .builder("m").input("x", Tensor.of(new float[] {3, 4, 5, 6, 7, 8}, 2, 3)).build());
      gate.open();
      Tensor y1 = shortOne.get(10, TimeUnit.SECONDS).requireOutput("y");
      Tensor y2 = longOne.get(10, TimeUnit.SECONDS).requireOutput("y");
      assertThat(y1.shape()).containsExactly(1, 2);
      assertThat(y1.toFloatArray()).containsExactly(2, 4);
      assertThat(y2.shape()).containsExactly(2, 3);
      assertThat(y2.toFloatArray()).containsExactly(6, 8, 10, 12, 14, 16);
      blocker.get(10, TimeUnit.SECONDS);
      assertThat(backend.loaded().get(0).rowsPerRun()).containsExactly(1L, 3L);
    }
  }

  @Test
  void differentShapesWithoutPaddingAreNotStackedTogether() throws Exception {
    ModelMetadata sequences = ModelMetadata.builder("fake")
        .input(TensorSpec.of("x", DataType.FP32, -1, -1))
        .output(TensorSpec.of("y", DataType.FP32, -1, -1))
        .build();
    Gate gate = new Gate();
    FakeBackend backend = FakeBackend.builder().metadata(sequences).duringRun(gate).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().configure("m", ModelConfig.builder().warmup(false).build());
      server.registry().load("m", 1, MODEL).join();
      CompletableFuture<InferenceResult> blocker = server.inferAsync(InferenceRequest
          .builder("m").input("x", Tensor.of(new float[] {42}, 1, 1)).build());
      gate.awaitEntered();
      CompletableFuture<InferenceResult> a = server.inferAsync(InferenceRequest.builder("m")
          .input("x", Tensor.of(new float[] {1, 2}, 1, 2)).build());
      CompletableFuture<InferenceResult> b = server.inferAsync(InferenceRequest.builder("m")
          .input("x", Tensor.of(new float[] {3, 4, 5}, 1, 3)).build());
      gate.open();
      assertThat(a.get(10, TimeUnit.SECONDS).requireOutput("y").toFloatArray())
          .containsExactly(2, 4);
      assertThat(b.get(10, TimeUnit.SECONDS).requireOutput("y").toFloatArray())
          .containsExactly(6, 8, 10);
      blocker.get(10, TimeUnit.SECONDS);
      assertThat(backend.loaded().get(0).rowsPerRun()).containsExactly(1L, 1L, 1L);
    }
  }

  @Test
  void refusalsCarryTheirCodes() throws Exception {
    Gate gate = new Gate();
    FakeBackend backend = FakeBackend.builder().duringRun(gate).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().configure("m", ModelConfig.builder().warmup(false)
          .batching(BatchingPolicy.builder().maxBatchSize(4).maxQueueSize(1).priorityLevels(2)
              .build()).build());
      server.registry().load("m", 1, MODEL).join();
      assertCode(() -> server.infer(request(1, 5)), ErrorCode.INVALID_INPUT,
          "request has 5 rows; 'm' version 1 takes at most 4 rows per batch (maxBatchSize)");
      assertCode(() -> server.infer(InferenceRequest.builder("m").inputs(row(1, 1, 1, 1))
          .priority(2).build()), ErrorCode.INVALID_INPUT,
          "priority 2 is out of range: 'm' has 2 priority levels (0 to 1)");

      CompletableFuture<InferenceResult> blocker = server.inferAsync(request(42, 1));
      gate.awaitEntered();
      CompletableFuture<InferenceResult> queued = server.inferAsync(request(1, 1));
      assertThat(server.registry().status("m", 1).orElseThrow())
          .satisfies(st -> assertThat(st.queuedRequests()).isEqualTo(1))
          .satisfies(st -> assertThat(st.queueFull()).isTrue());
      CompletableFuture<InferenceResult> refused = server.inferAsync(request(2, 1));
      assertThat(refused).isCompletedExceptionally();
      assertFailed(refused, ErrorCode.QUEUE_FULL,
          "the queue of 'm' version 1 is full (1 requests); retry after");
      ModelServingException full = ModelServingException.find(
          org.assertj.core.api.Assertions.catchThrowable(refused::join)).orElseThrow();
      assertThat(full.retryAfter()).isPresent();
      gate.open();
      assertThat(queued.get(10, TimeUnit.SECONDS).version()).isEqualTo(1);
      blocker.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aPolicyDefaultTimeoutAppliesToRequestsWithoutOne() throws Exception {
    Gate gate = new Gate();
    FakeBackend backend = FakeBackend.builder().duringRun(gate).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().configure("m", ModelConfig.builder().warmup(false)
          .batching(BatchingPolicy.builder().defaultTimeout(Duration.ofMillis(30)).build())
          .build());
      server.registry().load("m", 1, MODEL).join();
      // The blocker's own timeout outlasts the gate (a running request is answered at its
      // deadline too); the queued request has none, so the policy's 30 ms applies to it.
      float[] x = {42, 42, 42, 42}; // the gate holds it
      CompletableFuture<InferenceResult> blocker = server.inferAsync(InferenceRequest
          .builder("m").input("x", Tensor.of(x, 1, 4)).timeout(Duration.ofSeconds(10)).build());
      gate.awaitEntered();
      assertFailed(server.inferAsync(request(1, 1)), ErrorCode.TIMEOUT, "timeout of 30 ms");
      gate.open();
      blocker.get(10, TimeUnit.SECONDS);
      assertThat(backend.loaded().get(0).runCalls()).isEqualTo(1);
    }
  }

  @Test
  void aModelRunsAsManyBatchesAtOnceAsItsEngineSaysUnlessThePolicySetsInstances()
      throws Exception {
    // The engine says 3: three held batches run at once, a fourth request waits in the queue.
    assertBatchesAtOnce(BatchingPolicy.builder().maxBatchSize(1).build(), 3, 3);
    // The policy says 1: it wins over the engine's 3.
    assertBatchesAtOnce(BatchingPolicy.builder().maxBatchSize(1).instances(1).build(), 3, 1);
    // The policy says 2 for an engine that says nothing (1).
    assertBatchesAtOnce(BatchingPolicy.builder().maxBatchSize(1).instances(2).build(), 1, 2);
    assertThat(BatchingPolicy.defaults().instances()).isEmpty();
    assertThat(BatchingPolicy.defaults().toString()).contains("instances=engine's");
  }

  private static void assertBatchesAtOnce(BatchingPolicy policy, int engineRuns, int expected)
      throws Exception {
    Gate gate = new Gate(expected);
    FakeBackend backend = FakeBackend.builder().duringRun(gate).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().configure("m", ModelConfig.builder().warmup(false).batching(policy)
          .build());
      server.registry().load("m", 1, dev.modserv.spi.ModelSource.of(MODEL)
          .withOption("concurrent-runs", Integer.toString(engineRuns))).join();
      java.util.List<CompletableFuture<InferenceResult>> calls = new java.util.ArrayList<>();
      for (int i = 0; i < expected; i++) {
        calls.add(server.inferAsync(request(42, 1)));
      }
      gate.awaitEntered();
      calls.add(server.inferAsync(request(42, 1)));
      assertThat(backend.loaded().get(0).activeRuns()).isEqualTo(expected);
      assertThat(server.registry().status("m", 1).orElseThrow().queuedRequests()).isEqualTo(1);
      gate.open();
      for (CompletableFuture<InferenceResult> call : calls) {
        call.get(10, TimeUnit.SECONDS);
      }
      assertThat(backend.loaded().get(0).maxConcurrentRuns()).isEqualTo(expected);
    }
  }

  @Test
  void policyBuilderChecksItsSettings() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> BatchingPolicy.builder().maxBatchSize(4).preferredBatchSizes(8).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("preferred batch size 8 is larger than maxBatchSize 4");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> BatchingPolicy.builder().maxBatchSize(0))
        .hasMessage("maxBatchSize must be >= 1: 0");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> BatchingPolicy.builder().instances(1).instances(2))
        .hasMessage("instances was already set to 1");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> BatchingPolicy.builder().trimOutput("y", 1).build())
        .hasMessage("outputs [y] are trimmed but no input is padded");
    assertThat(BatchingPolicy.builder().maxBatchSize(8).build().preferredBatchSizes())
        .containsExactly(8);
  }
}
