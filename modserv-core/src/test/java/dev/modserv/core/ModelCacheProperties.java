package dev.modserv.core;

import static dev.modserv.core.ModelServerTest.row;
import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelServingException;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.FakeModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** The memory budget's contract: bounded weight, no eviction in use, one load per first use. */
class ModelCacheProperties {

  @Property(tries = 40)
  void theLoadedWeightNeverExceedsTheBudgetAfterAnEvictionRound(
      @ForAll @Size(min = 1, max = 12) List<@IntRange(min = 1, max = 120) Integer> sizes,
      @ForAll @IntRange(min = 50, max = 200) int budget,
      @ForAll @Size(max = 12) List<@IntRange(min = 0, max = 11) Integer> uses) {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .maxLoadedBytes(budget).build()) {
      for (int i = 0; i < sizes.size(); i++) {
        try {
          server.registry().load("m" + i, 1, ModelCacheTest.sized("m" + i, sizes.get(i))).join();
          assertThat(sizes.get(i)).isLessThanOrEqualTo(budget);
        } catch (RuntimeException e) {
          assertThat(ModelServingException.codeOf(e)).contains(ErrorCode.INSUFFICIENT_MEMORY);
          assertThat(sizes.get(i)).isGreaterThan(budget);
        }
        assertThat(ModelCacheTest.used(server)).as("weight after loading m%s", i)
            .isLessThanOrEqualTo(budget);
        if (i < uses.size() && uses.get(i) <= i && sizes.get(uses.get(i)) <= budget) {
          // Using an earlier model loads it again if it was evicted, within the budget too.
          server.infer("m" + uses.get(i), row(1, 1, 1, 1));
          assertThat(ModelCacheTest.used(server)).isLessThanOrEqualTo(budget);
        }
      }
    }
    for (FakeModel model : backend.loaded()) {
      assertThat(model.closeCalls()).isEqualTo(1);
      assertThat(model.runsAfterClose()).isZero();
    }
  }

  @Property(tries = 15)
  void aModelInUseIsNeverEvicted(
      @ForAll @IntRange(min = 1, max = 3) int busyModels,
      @ForAll @Size(min = 1, max = 6) List<@IntRange(min = 10, max = 60) Integer> laterLoads)
      throws Exception {
    Gate gate = new Gate();
    FakeBackend backend = FakeBackend.builder().duringRun(gate).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .maxLoadedBytes(100).build()) {
      List<CompletableFuture<InferenceResult>> busy = new ArrayList<>();
      for (int i = 0; i < busyModels; i++) {
        server.registry().load("busy" + i, 1, ModelCacheTest.sized("busy" + i, 20)).join();
        busy.add(server.inferAsync(InferenceRequest.builder("busy" + i)
            .inputs(row(42, 0, 0, 0)).build()));
      }
      gate.awaitEntered();
      for (int i = 0; i < laterLoads.size(); i++) {
        try {
          server.registry().load("later" + i, 1, ModelCacheTest.sized("later" + i,
              laterLoads.get(i))).join();
        } catch (RuntimeException e) {
          assertThat(ModelServingException.codeOf(e)).contains(ErrorCode.INSUFFICIENT_MEMORY);
        }
        for (int b = 0; b < busyModels; b++) {
          assertThat(backend.loaded().get(b).closeCalls()).as("busy%s evicted in use", b).isZero();
        }
        assertThat(ModelCacheTest.used(server)).isLessThanOrEqualTo(100);
      }
      gate.open();
      for (CompletableFuture<InferenceResult> f : busy) {
        f.get(10, TimeUnit.SECONDS);
      }
    }
    for (FakeModel model : backend.loaded()) {
      assertThat(model.closedDuringRun()).isFalse();
      assertThat(model.closeCalls()).isEqualTo(1);
    }
  }

  @Property(tries = 15)
  void concurrentFirstUsesLoadOnce(
      @ForAll @IntRange(min = 2, max = 24) int callers,
      @ForAll @IntRange(min = 0, max = 30) int loadMillis,
      @ForAll boolean byLabel) throws Exception {
    FakeBackend backend = FakeBackend.builder().loadDelay(Duration.ofMillis(loadMillis)).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().register("m", 3, Path.of("m.fake"));
      List<CompletableFuture<InferenceResult>> calls = new ArrayList<>();
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      List<CompletableFuture<InferenceResult>> synced = java.util.Collections.synchronizedList(calls);
      for (int i = 0; i < callers; i++) {
        float value = i;
        threads.add(Thread.ofVirtual().start(() -> {
          try {
            start.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
          synced.add(server.inferAsync(InferenceRequest.builder(byLabel ? "m:3" : "m")
              .inputs(row(value, 0, 0, 0)).build()));
        }));
      }
      start.countDown();
      for (Thread t : threads) {
        t.join();
      }
      for (CompletableFuture<InferenceResult> f : calls) {
        assertThat(f.get(10, TimeUnit.SECONDS).version()).isEqualTo(3);
      }
      assertThat(backend.loadCalls()).isEqualTo(1);
    }
  }
}
