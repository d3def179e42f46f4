package dev.modserv.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.spi.Backend;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import dev.modserv.spi.RunCancel;
import dev.modserv.testkit.FakeBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A deadline covers the whole request: a request whose deadline passes while its batch runs is
 * answered TIMEOUT at its deadline, and the engine is told to stop once no request of the batch
 * waits for it (never for a batch that another caller still waits for).
 */
class RunningDeadlineTest {
  private ModelServer server;
  private final HeldModel model = new HeldModel();

  @AfterEach
  void close() {
    model.released.complete(null);
    if (server != null) {
      server.close();
    }
  }

  /** y = 2x; a batch holding the value 42 waits until cancelled or released. */
  static final class HeldModel implements LoadedModel {
    final CountDownLatch entered = new CountDownLatch(1);
    final CompletableFuture<Void> released = new CompletableFuture<>();
    final AtomicInteger cancelled = new AtomicInteger();

    @Override
    public ModelMetadata metadata() {
      return FakeBackend.defaultMetadata();
    }

    @Override
    public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs) {
      throw new AssertionError("the server calls the run that takes a RunCancel");
    }

    @Override
    public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs,
        Map<String, String> parameters, RunCancel cancel) throws Exception {
      float[] x = inputs.get("x").toFloatArray();
      boolean held = false;
      for (float v : x) {
        held |= v == 42f;
      }
      if (held) {
        CompletableFuture<Void> stop = new CompletableFuture<>();
        cancel.onCancel(() -> {
          cancelled.incrementAndGet();
          stop.complete(null);
        });
        released.thenRun(() -> stop.complete(null));
        entered.countDown();
        stop.get(10, TimeUnit.SECONDS);
        if (cancel.isCancelled()) {
          throw new IllegalStateException("terminated");
        }
      }
      float[] y = new float[x.length];
      for (int i = 0; i < y.length; i++) {
        y[i] = 2 * x[i];
      }
      return Map.of("y", Tensor.of(y, inputs.get("x").shape()));
    }

    @Override
    public void close() {}
  }

  private void serve(BatchingPolicy policy) {
    Backend backend = new Backend() {
      @Override
      public String name() {
        return "held";
      }

      @Override
      public boolean supports(ModelSource source) {
        return true;
      }

      @Override
      public LoadedModel load(ModelSource source) {
        return model;
      }
    };
    server = ModelServer.builder().backend(backend).discoverBackends(false).build();
    server.registry().configure("m", ModelConfig.builder().batching(policy).build());
    server.registry().load("m", 1, Path.of("m.held")).join();
  }

  private CompletableFuture<InferenceResult> send(float value, Duration timeout) {
    InferenceRequest.Builder b = InferenceRequest.builder("m")
        .input("x", Tensor.of(new float[] {value, 0, 0, 0}, 1, 4));
    if (timeout != null) {
      b.timeout(timeout);
    }
    return server.inferAsync(b.build());
  }

  @Test
  void aRunningRequestIsAnsweredAtItsDeadlineAndItsRunIsCancelled() throws Exception {
    serve(BatchingPolicy.builder().build());
    long start = System.nanoTime();
    CompletableFuture<InferenceResult> slow = send(42, Duration.ofMillis(200));
    assertThat(model.entered.await(5, TimeUnit.SECONDS)).isTrue();
    ModelServerTest.assertFailed(slow, ErrorCode.TIMEOUT,
        "did not finish within its timeout of 200 ms");
    long tookMillis = (System.nanoTime() - start) / 1_000_000;
    assertThat(tookMillis).isBetween(200L, 1_000L);
    // The engine is told right after the caller is answered, on the timer's thread.
    long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (model.cancelled.get() == 0 && System.nanoTime() < waitUntil) {
      Thread.sleep(5);
    }
    assertThat(model.cancelled.get()).isEqualTo(1);
    // The instance is free again once the cancelled run returned.
    assertThat(send(1, Duration.ofSeconds(5)).get(5, TimeUnit.SECONDS)
        .requireOutput("y").toFloatArray()[0]).isEqualTo(2f);
  }

  @Test
  void aBatchSharedWithACallerStillWaitingRunsOnForIt() throws Exception {
    serve(BatchingPolicy.builder().maxBatchSize(4).preferredBatchSizes(2)
        .maxQueueDelay(Duration.ofSeconds(1)).build());
    CompletableFuture<InferenceResult> impatient = send(42, Duration.ofMillis(200));
    CompletableFuture<InferenceResult> patient = send(3, null);
    assertThat(model.entered.await(5, TimeUnit.SECONDS)).isTrue();
    ModelServerTest.assertFailed(impatient, ErrorCode.TIMEOUT, "did not finish");
    assertThat(patient).isNotDone();
    model.released.complete(null);
    InferenceResult result = patient.get(5, TimeUnit.SECONDS);
    assertThat(result.requireOutput("y").toFloatArray()[0]).isEqualTo(6f);
    assertThat(model.cancelled.get()).isZero();
  }
}
