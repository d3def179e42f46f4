package dev.modserv.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelRef;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The registry's concurrency contract on the fake backend: random interleavings of load, unload,
 * label moves and requests from several threads.
 */
class RegistryProperties {
  private static final String MODEL = "m";
  /** Codes a request may legitimately get while versions come and go. */
  private static final Set<ErrorCode> CHURN_CODES = Set.of(ErrorCode.MODEL_NOT_FOUND,
      ErrorCode.VERSION_NOT_FOUND, ErrorCode.MODEL_NOT_READY, ErrorCode.SHUTTING_DOWN);

  sealed interface Action {}

  record Load(long version) implements Action {}

  record Unload(long version) implements Action {}

  record Label(String label, long version) implements Action {}

  record Infer(String ref) implements Action {}

  @Provide
  Arbitrary<List<List<Action>>> scripts() {
    Arbitrary<Long> versions = Arbitraries.longs().between(1, 4);
    Arbitrary<String> labels = Arbitraries.of("stable", "canary");
    Arbitrary<Action> action = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(2, versions.map(Load::new)),
        net.jqwik.api.Tuple.of(1, versions.map(Unload::new)),
        net.jqwik.api.Tuple.of(1, Combinators.combine(labels, versions).as(Label::new)),
        net.jqwik.api.Tuple.of(6, Arbitraries.of("m", "m:1", "m:2", "m:3", "m:4", "m:stable",
            "m:canary").map(Infer::new)));
    return action.list().ofMinSize(1).ofMaxSize(25).list().ofMinSize(2).ofMaxSize(4);
  }

  @Property(tries = 60)
  void everyRequestCompletesOnceWithItsOwnRowsAndNoModelIsUsedAfterClose(
      @ForAll("scripts") List<List<Action>> threads,
      @ForAll @IntRange(min = 0, max = 2) int costMillis,
      @ForAll boolean keepAllVersions) throws Exception {
    FakeBackend backend = FakeBackend.builder().cost(Duration.ofMillis(costMillis)).build();
    ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false).build();
    server.registry().configure(MODEL, ModelConfig.builder()
        .versionPolicy(keepAllVersions ? VersionPolicy.all() : VersionPolicy.latest(1))
        .drainGrace(Duration.ofMillis(20)).build());
    List<CompletableFuture<?>> lifecycle = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<Request> requests = new java.util.concurrent.CopyOnWriteArrayList<>();
    AtomicInteger nextValue = new AtomicInteger(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads.size());
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (List<Action> script : threads) {
      done.add(pool.submit(() -> {
        start.await();
        for (Action action : script) {
          perform(server, action, lifecycle, requests, nextValue);
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : done) {
      f.get(30, TimeUnit.SECONDS);
    }
    pool.shutdown();

    for (Request r : requests) {
      r.check();
    }
    for (CompletableFuture<?> f : lifecycle) {
      try {
        f.get(30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        assertThat(ModelServingException.codeOf(e)).as("lifecycle failure %s", e)
            .isPresent().get().isIn(ErrorCode.LOAD_FAILED, ErrorCode.SHUTTING_DOWN,
                ErrorCode.VERSION_NOT_FOUND);
      }
    }
    server.close();
    for (FakeModel model : backend.loaded()) {
      assertThat(model.closeCalls()).as("closed exactly once: %s", model).isEqualTo(1);
      assertThat(model.runsAfterClose()).as("runs after close: %s", model).isZero();
      assertThat(model.closedDuringRun()).as("closed during a run: %s", model).isFalse();
    }
  }

  private static void perform(ModelServer server, Action action,
      List<CompletableFuture<?>> lifecycle, List<Request> requests, AtomicInteger nextValue) {
    try {
      switch (action) {
        case Load l -> lifecycle.add(server.registry().load(MODEL, l.version(), Path.of("m.fake")));
        case Unload u -> lifecycle.add(server.registry().unload(MODEL, u.version()));
        case Label l -> server.registry().label(MODEL, l.label(), l.version());
        case Infer i -> {
          float value = nextValue.getAndIncrement();
          requests.add(new Request(value, server.inferAsync(InferenceRequest.builder(i.ref())
              .input("x", Tensor.of(new float[] {value, value, value, value}, 1, 4)).build())));
        }
      }
    } catch (ModelServingException e) {
      // Synchronous refusals of label and unload: the version was not there or not ready.
      assertThat(e.code()).as("%s refused with %s", action, e).isIn(CHURN_CODES);
    }
  }

  /** One request and the value only it sent. */
  record Request(float value, CompletableFuture<InferenceResult> future) {
    void check() throws Exception {
      InferenceResult result;
      try {
        result = future.get(30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        assertThat(ModelServingException.codeOf(e)).as("request failed with %s", e.getCause())
            .isPresent().get().isIn(CHURN_CODES);
        return;
      }
      // Its own row, never another request's: y = 2x for the value it alone sent.
      assertThat(result.requireOutput("y").toFloatArray())
          .containsExactly(2 * value, 2 * value, 2 * value, 2 * value);
    }
  }

  @Property(tries = 20)
  void noRequestFailsDuringAVersionSwitch(
      @ForAll @IntRange(min = 1, max = 4) int switches,
      @ForAll boolean byLabel,
      @ForAll @IntRange(min = 1, max = 3) int readers,
      @ForAll @IntRange(min = 0, max = 1) int costMillis,
      @ForAll boolean explicitUnload) throws Exception {
    FakeBackend backend = FakeBackend.builder().cost(Duration.ofMillis(costMillis)).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      // Either the switch unloads the old version itself (policy all), or the default policy,
      // latest(1), drains it once the new version is ready and no label holds the old one.
      server.registry().configure(MODEL, ModelConfig.builder().drainGrace(Duration.ofSeconds(10))
          .versionPolicy(explicitUnload ? VersionPolicy.all() : VersionPolicy.latest(1))
          .build());
      server.registry().load(MODEL, 1, Path.of("m.fake")).join();
      if (byLabel) {
        server.registry().label(MODEL, "stable", 1);
      }
      ModelRef ref = byLabel ? ModelRef.labelled(MODEL, "stable") : ModelRef.of(MODEL);
      AtomicBoolean switching = new AtomicBoolean(true);
      List<CompletableFuture<InferenceResult>> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
      ExecutorService pool = Executors.newFixedThreadPool(readers);
      List<Future<?>> loops = new ArrayList<>();
      for (int r = 0; r < readers; r++) {
        loops.add(pool.submit(() -> {
          int n = 0;
          while (switching.get() || n < 5) {
            float value = n++;
            CompletableFuture<InferenceResult> f = server.inferAsync(InferenceRequest.builder(ref)
                .input("x", Tensor.of(new float[] {value, 0, 0, 0}, 1, 4)).build());
            sent.add(f);
            f.join();
          }
          return null;
        }));
      }
      for (long v = 2; v <= switches + 1; v++) {
        server.registry().load(MODEL, v, Path.of("m.fake")).join();
        if (byLabel) {
          server.registry().label(MODEL, "stable", v);
        }
        if (explicitUnload) {
          server.registry().unload(MODEL, v - 1).get(30, TimeUnit.SECONDS);
        } else {
          FakeModel old = backend.loaded().get((int) v - 2);
          long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
          while (old.closeCalls() == 0 && System.nanoTime() < end) {
            Thread.sleep(1);
          }
        }
      }
      switching.set(false);
      for (Future<?> loop : loops) {
        loop.get(30, TimeUnit.SECONDS);   // a failed request fails its loop, and this property
      }
      pool.shutdown();
      assertThat(sent).allSatisfy(f -> assertThat(f).isCompleted());
      List<FakeModel> models = backend.loaded();
      assertThat(models).hasSize(switches + 1);
      for (int i = 0; i < switches; i++) {
        assertThat(models.get(i).closeCalls()).isEqualTo(1);
        assertThat(models.get(i).runsAfterClose()).isZero();
      }
      assertThat(server.infer(InferenceRequest.builder(ref)
          .input("x", Tensor.of(new float[4], 1, 4)).build()).version()).isEqualTo(switches + 1);
    }
  }
}
