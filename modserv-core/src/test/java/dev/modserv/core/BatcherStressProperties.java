package dev.modserv.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.FakeModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Rules 1, 2, 5 and 7 of the batching contract under contention: real threads, the real clock,
 * the fake engine with injected batch failures.
 */
class BatcherStressProperties {

  @Property(tries = 25)
  void underContentionEveryRequestCompletesOnceInBoundedBatchesAndQueues(
      @ForAll @IntRange(min = 1, max = 16) int maxBatch,
      @ForAll @IntRange(min = 1, max = 48) int maxQueue,
      @ForAll @IntRange(min = 1, max = 3) int instances,
      @ForAll @IntRange(min = 2, max = 6) int threads,
      @ForAll @IntRange(min = 0, max = 300) int costMicros,
      @ForAll @IntRange(min = 0, max = 20) int poisonPercent) throws Exception {
    Set<Float> failedBatchValues = ConcurrentHashMap.newKeySet();
    FakeBackend backend = FakeBackend.builder()
        .cost(Duration.ofNanos(costMicros * 1_000L))
        .runFailure(inputs -> {
          float[] x = inputs.get("x").toFloatArray();
          boolean poisoned = false;
          for (float v : x) {
            poisoned |= v < 0;
          }
          if (poisoned) {
            for (float v : x) {
              failedBatchValues.add(v);
            }
          }
          return poisoned;
        }, () -> new IllegalStateException("poisoned batch"))
        .build();
    AtomicInteger maxDepthSeen = new AtomicInteger();
    List<IntSupplier> depth = new java.util.concurrent.CopyOnWriteArrayList<>();
    ServingMetrics depthProbe = new ServingMetrics() {
      @Override
      public VersionMetrics version(String model, long version) {
        return new VersionMetrics() {
          @Override
          public void request(Outcome outcome, long latencyNanos) {}

          @Override
          public void queueWait(long nanos) {}

          @Override
          public void batch(int rows, long engineNanos) {}

          @Override
          public void queueDepth(IntSupplier d) {
            depth.add(d);
          }

          @Override
          public void close() {}
        };
      }

      @Override
      public void loadFinished(String model, long version, long nanos, boolean success) {}

      @Override
      public void loadedModels(IntSupplier count) {}
    };
    ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .metrics(depthProbe).build();
    server.registry().configure("m", ModelConfig.builder().warmup(false)
        .batching(BatchingPolicy.builder().maxBatchSize(maxBatch).maxQueueSize(maxQueue)
            .instances(instances).build()).build());
    server.registry().load("m", 1, Path.of("m.fake")).join();

    AtomicBoolean running = new AtomicBoolean(true);
    Thread sampler = Thread.ofPlatform().start(() -> {
      while (running.get()) {
        for (IntSupplier d : depth) {
          maxDepthSeen.accumulateAndGet(d.getAsInt(), Math::max);
        }
        Thread.onSpinWait();
      }
    });
    record Sent(float value, int rows, CompletableFuture<InferenceResult> future) {}
    List<Sent> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
    AtomicInteger nextValue = new AtomicInteger(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> loops = new ArrayList<>();
    java.util.Random random = new java.util.Random(maxBatch * 31L + maxQueue);
    for (int t = 0; t < threads; t++) {
      long seed = random.nextLong();
      loops.add(pool.submit(() -> {
        java.util.Random r = new java.util.Random(seed);
        start.await();
        for (int i = 0; i < 60; i++) {
          int rows = 1 + r.nextInt(maxBatch + 1);   // sometimes one too many
          float value = nextValue.getAndIncrement();
          if (r.nextInt(100) < poisonPercent) {
            value = -value;
          }
          float[] x = new float[rows * 4];
          java.util.Arrays.fill(x, value);
          sent.add(new Sent(value, rows, server.inferAsync(InferenceRequest.builder("m")
              .input("x", Tensor.of(x, rows, 4)).build())));
          if (r.nextInt(4) == 0) {
            Thread.yield();
          }
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> loop : loops) {
      loop.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    for (Sent s : sent) {
      try {
        InferenceResult result = s.future().get(60, TimeUnit.SECONDS);
        // Rule 1: its own rows, all of them.
        assertThat(result.requireOutput("y").toFloatArray()).hasSize(s.rows() * 4)
            .containsOnly(2 * s.value());
        assertThat(s.value()).as("a poisoned request cannot succeed").isPositive();
        assertThat(failedBatchValues).doesNotContain(s.value());
      } catch (java.util.concurrent.ExecutionException e) {
        ErrorCode code = ModelServingException.codeOf(e).orElseThrow();
        switch (code) {
          case INVALID_INPUT -> assertThat(s.rows()).as("rule 2").isGreaterThan(maxBatch);
          case QUEUE_FULL -> assertThat(ModelServingException.find(e).orElseThrow().retryAfter())
              .isPresent();
          case BACKEND_ERROR -> assertThat(failedBatchValues).as("rule 7").contains(s.value());
          default -> throw new AssertionError("unexpected " + code, e);
        }
      }
    }
    running.set(false);
    sampler.join();
    assertThat(maxDepthSeen.get()).as("rule 5: queue depth").isLessThanOrEqualTo(maxQueue);
    FakeModel model = backend.loaded().get(0);
    assertThat(model.rowsPerRun()).as("rule 2: rows per batch").allSatisfy(rows ->
        assertThat(rows).isBetween(1L, (long) maxBatch));
    assertThat(model.maxConcurrentRuns()).isLessThanOrEqualTo(instances);
    server.close();
    assertThat(model.closeCalls()).isEqualTo(1);
    assertThat(model.runsAfterClose()).isZero();
  }
}
