package dev.modserv.core;

import static dev.modserv.core.ModelServerTest.assertCode;
import static dev.modserv.core.ModelServerTest.assertFailed;
import static dev.modserv.core.ModelServerTest.row;
import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.FakeModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The memory budget, idle keep-alive and load on first use. */
class ModelCacheTest {

  static ModelSource sized(String name, long bytes) {
    return ModelSource.of(Path.of(name + ".fake")).withOption("memory-bytes", Long.toString(bytes));
  }

  static void eventually(BooleanSupplier condition, String what) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("not within 10 s: " + what);
      }
      Thread.onSpinWait();
      Thread.yield();
    }
  }

  static long used(ModelServer server) {
    return server.registry().models().stream().mapToLong(ModelStatus::memoryBytes).sum();
  }

  @Test
  void idleModelsUnloadLeastRecentlyUsedFirstToMakeRoom() {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .maxLoadedBytes(100).build()) {
      server.registry().load("a", 1, sized("a", 40)).join();
      server.registry().load("b", 1, sized("b", 40)).join();
      server.infer("a", row(1, 1, 1, 1));                  // b is now the least recently used
      assertThat(used(server)).isEqualTo(80);
      server.registry().load("c", 1, sized("c", 50)).join();
      FakeModel b = backend.loaded().get(1);
      assertThat(b.closeCalls()).isEqualTo(1);
      assertThat(backend.loaded().get(0).closeCalls()).isZero();
      assertThat(used(server)).isEqualTo(90);
      assertThat(server.registry().versions("b")).isEmpty();

      // b is still registered: its next request loads it again, making room the same way.
      assertThat(server.infer("b", row(1, 1, 1, 1)).requireOutput("y").toFloatArray())
          .containsExactly(2, 2, 2, 2);
      assertThat(backend.loaded()).hasSize(4);
      assertThat(used(server)).isLessThanOrEqualTo(100);
    }
  }

  @Test
  void aModelThatCannotFitIsRefusedBeforeItLoads() {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .maxLoadedBytes(100).build()) {
      server.registry().configure("big", ModelConfig.builder().memoryBytes(150).build());
      assertFailed(server.registry().load("big", 1, Path.of("big.fake")),
          ErrorCode.INSUFFICIENT_MEMORY,
          "version 1 of 'big' needs about 150 bytes but the server's budget is 100 bytes");
      assertThat(backend.loadCalls()).isZero();
      assertThat(server.registry().status("big", 1).orElseThrow().state())
          .isEqualTo(ModelState.FAILED);
    }
  }

  @Test
  void aModelLargerThanReportedIsUnloadedAndRefused() {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .maxLoadedBytes(100).build()) {
      assertFailed(server.registry().load("big", 1, sized("big", 150)),
          ErrorCode.INSUFFICIENT_MEMORY, "needs about 150 bytes");
      assertThat(backend.loaded().get(0).closeCalls()).isEqualTo(1);
      assertThat(used(server)).isZero();
    }
  }

  @Test
  void aModelInUseIsNeverEvicted() throws Exception {
    Gate gate = new Gate();
    FakeBackend backend = FakeBackend.builder().duringRun(gate).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .maxLoadedBytes(100).build()) {
      server.registry().load("a", 1, sized("a", 60)).join();
      CompletableFuture<InferenceResult> busy = server.inferAsync(
          InferenceRequest.builder("a").inputs(row(42, 0, 0, 0)).build());
      gate.awaitEntered();
      assertFailed(server.registry().load("b", 1, sized("b", 60)),
          ErrorCode.INSUFFICIENT_MEMORY, "held by models in use or loading");
      assertThat(backend.loaded().get(0).closeCalls()).isZero();
      gate.open();
      busy.get(10, TimeUnit.SECONDS);
      server.registry().load("b", 2, sized("b", 60)).join();   // a is idle now: it makes room
      assertThat(backend.loaded().get(0).closeCalls()).isEqualTo(1);
      assertThat(backend.loaded().get(0).closedDuringRun()).isFalse();
    }
  }

  @Test
  void loadsUnderWayTogetherShareTheBudgetRatherThanRefuse() {
    FakeBackend backend = FakeBackend.builder().loadDelay(Duration.ofMillis(200)).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .maxLoadedBytes(100).build()) {
      // Sizes known before the load, as the llama engine's are.
      for (String name : List.of("a", "b")) {
        server.registry().configure(name, ModelConfig.builder().memoryBytes(60).build());
      }
      CompletableFuture<ModelStatus> a = server.registry().load("a", 1, Path.of("a.fake"));
      CompletableFuture<ModelStatus> b = server.registry().load("b", 1, Path.of("b.fake"));
      // The second waits for the first, which then is idle and makes room for it.
      a.join();
      b.join();
      eventually(() -> backend.loaded().size() == 2
          && backend.loaded().stream().mapToInt(FakeModel::closeCalls).sum() == 1,
          "one of the two unloaded for the other");
      assertThat(used(server)).isEqualTo(60);
    }
  }

  @Test
  void aVersionRefusedForRoomLoadsOnALaterRequest() throws Exception {
    Gate gate = new Gate();
    FakeBackend backend = FakeBackend.builder().duringRun(gate).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .maxLoadedBytes(100).build()) {
      server.registry().load("a", 1, sized("a", 60)).join();
      server.registry().register("b", 1, sized("b", 60));
      CompletableFuture<InferenceResult> busy = server.inferAsync(
          InferenceRequest.builder("a").inputs(row(42, 0, 0, 0)).build());
      gate.awaitEntered();
      assertCode(() -> server.infer("b", row(1, 1, 1, 1)), ErrorCode.INSUFFICIENT_MEMORY,
          "held by models in use or loading");
      gate.open();
      busy.get(10, TimeUnit.SECONDS);
      assertThat(server.infer("b", row(1, 1, 1, 1)).requireOutput("y").toFloatArray())
          .containsExactly(2, 2, 2, 2);
    }
  }

  @Test
  void keepAliveZeroUnloadsWhenIdleAndTheNextRequestLoadsAgain() {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().configure("m", ModelConfig.builder().keepAlive(Duration.ZERO)
          .warmup(false).build());
      // Registered, not loaded: an explicitly loaded version with keep-alive 0 may be unloaded
      // by the idle timer before the first request arrives, which would count a third load.
      server.registry().register("m", 1, Path.of("m.fake"));
      server.infer("m", row(1, 1, 1, 1));
      assertThat(backend.loadCalls()).isEqualTo(1);
      eventually(() -> backend.loaded().get(0).closeCalls() == 1, "unload after the request");
      server.infer("m", row(1, 1, 1, 1));
      assertThat(backend.loadCalls()).isEqualTo(2);
    }
  }

  @Test
  void keepAliveZeroServesABurstThatArrivesWhileItLoads() throws Exception {
    // The first request's answer lets the version go at once; requests that waited for the same
    // load may then find it unloading, and load it again rather than fail.
    FakeBackend backend = FakeBackend.builder().loadDelay(Duration.ofMillis(50)).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().configure("m", ModelConfig.builder().keepAlive(Duration.ZERO)
          .warmup(false).build());
      server.registry().register("m", 1, Path.of("m.fake"));
      for (int round = 0; round < 20; round++) {
        List<CompletableFuture<InferenceResult>> burst = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          burst.add(server.inferAsync(InferenceRequest.builder("m").inputs(row(1, 2, 3, 4))
              .build()));
        }
        for (CompletableFuture<InferenceResult> f : burst) {
          assertThat(f.get(10, TimeUnit.SECONDS).version()).isEqualTo(1);
        }
      }
    }
  }

  @Test
  void keepAliveUnloadsAfterTheIdleTimeOnly() throws Exception {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().configure("m", ModelConfig.builder().keepAlive(Duration.ofMillis(400))
          .build());
      server.registry().load("m", 1, Path.of("m.fake")).join();
      long start = System.nanoTime();
      eventually(() -> backend.loaded().get(0).closeCalls() == 1, "keep-alive unload");
      assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(
          TimeUnit.MILLISECONDS.toNanos(300));
      // The engine's close runs before the version leaves the list (on the close thread).
      eventually(() -> server.registry().versions("m").isEmpty(), "version gone");
    }
  }

  @Test
  void concurrentFirstRequestsShareOneLoad() throws Exception {
    FakeBackend backend = FakeBackend.builder().loadDelay(Duration.ofMillis(100)).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().register("m", 1, Path.of("m.fake"));
      assertThat(backend.loadCalls()).isZero();
      List<CompletableFuture<InferenceResult>> calls = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        calls.add(server.inferAsync(InferenceRequest.builder("m").inputs(row(i, 0, 0, 0))
            .build()));
      }
      for (int i = 0; i < calls.size(); i++) {
        assertThat(calls.get(i).get(10, TimeUnit.SECONDS).requireOutput("y").toFloatArray()[0])
            .isEqualTo(2f * i);
      }
      assertThat(backend.loadCalls()).isEqualTo(1);
    }
  }

  @Test
  void aFirstRequestWaitsForTheLoadOnlyWithinItsTimeout() {
    FakeBackend backend = FakeBackend.builder().loadDelay(Duration.ofMillis(500)).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().register("m", 1, Path.of("m.fake"));
      assertFailed(server.inferAsync(InferenceRequest.builder("m").inputs(row(1, 0, 0, 0))
              .timeout(Duration.ofMillis(50)).build()), ErrorCode.TIMEOUT,
          "'m' did not load within the request's timeout of 50 ms");
      assertThat(server.infer("m", row(1, 0, 0, 0)).version()).isEqualTo(1);
      assertThat(backend.loadCalls()).isEqualTo(1);
    }
  }

  @Test
  void unknownAndExplicitlyUnloadedModelsAreNotLoadedOnDemand() {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().load("m", 1, Path.of("m.fake")).join();
      server.registry().unload("m", 1).join();
      assertCode(() -> server.infer("m", row(1, 0, 0, 0)), ErrorCode.MODEL_NOT_READY,
          "has no READY version");
      assertThat(backend.loadCalls()).isEqualTo(1);
    }
  }

  @Test
  void registeredVersionsNotLoadedAreListedWithWhatTheirLastLoadKnew() {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().configure("m", ModelConfig.builder().keepAlive(Duration.ZERO)
          .warmup(false).memoryBytes(1234).build());
      server.registry().register("m", 2, Path.of("m.fake"));
      List<ModelStatus> registered = server.registry().registered();
      assertThat(registered).hasSize(1);
      ModelStatus never = registered.get(0);
      assertThat(never.name()).isEqualTo("m");
      assertThat(never.version()).isEqualTo(2);
      assertThat(never.state()).isEqualTo(ModelState.UNLOADED);
      assertThat(never.metadata()).isEmpty();
      assertThat(never.loadedAt()).isEmpty();
      assertThat(never.memoryBytes()).isEqualTo(1234);
      assertThat(server.registry().versions("m")).isEmpty();

      server.infer("m", row(1, 1, 1, 1));
      eventually(() -> backend.loaded().get(0).closeCalls() == 1, "unload after the request");
      eventually(() -> server.registry().versions("m").isEmpty(), "version gone");
      ModelStatus idle = server.registry().registered().get(0);
      assertThat(idle.state()).isEqualTo(ModelState.UNLOADED);
      assertThat(idle.metadata()).contains(FakeBackend.defaultMetadata());
      assertThat(idle.memoryBytes()).isEqualTo(1234);

      server.registry().unload("m").join();
      server.registry().load("m", 2, Path.of("m.fake")).join();
      assertThat(server.registry().registered()).isEmpty();
      server.registry().unload("m", 2).join();
      assertThat(server.registry().registered()).isEmpty();
    }
  }
}
