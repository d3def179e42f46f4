package dev.modserv.core.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.core.VersionPolicy;
import dev.modserv.core.internal.Registry;
import dev.modserv.spi.ModelSource;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * The response cache on the real request path with the fake engine: random interleavings of
 * requests (a few distinct inputs), loads, unloads and label moves from several threads.
 */
class ResponseCacheProperties {
  private static final String MODEL = "m";
  /** Codes a request may legitimately get while versions come and go. */
  private static final Set<ErrorCode> CHURN_CODES = Set.of(ErrorCode.MODEL_NOT_FOUND,
      ErrorCode.VERSION_NOT_FOUND, ErrorCode.MODEL_NOT_READY, ErrorCode.SHUTTING_DOWN);

  sealed interface Action {}

  record Load(long version) implements Action {}

  record Unload(long version) implements Action {}

  record Label(long version) implements Action {}

  record Infer(String ref, float x) implements Action {}

  @Provide
  Arbitrary<List<List<Action>>> scripts() {
    Arbitrary<Long> versions = Arbitraries.longs().between(1, 3);
    Arbitrary<Action> action = Arbitraries.frequencyOf(
        Tuple.of(2, versions.map(Load::new)),
        Tuple.of(1, versions.map(Unload::new)),
        Tuple.of(1, versions.map(Label::new)),
        Tuple.of(10, Combinators.combine(
            Arbitraries.of("m", "m:1", "m:2", "m:3", "m:stable"),
            Arbitraries.of(1f, 2f, 3f)).as(Infer::new)));
    return action.list().ofMinSize(1).ofMaxSize(30).list().ofMinSize(2).ofMaxSize(4);
  }

  /**
   * Every load gets its own offset ({@code version * 1000 + n}), so an answer names the load that
   * computed it: that load must have started before the answer came, and must not have closed
   * before the request was sent (an answer kept from a closed load, or from an earlier load of the
   * same version number, fails this).
   */
  @Property(tries = 60)
  void everyAnswerIsTheEnginesForItsInputOnTheVersionThatServedItAndTheBoundHolds(
      @ForAll("scripts") List<List<Action>> threads,
      @ForAll @IntRange(min = 0, max = 1) int costMillis,
      @ForAll @IntRange(min = 1, max = 8) int boundKib,
      @ForAll boolean keepAllVersions) throws Exception {
    Map<Double, Long> closedAt = new ConcurrentHashMap<>();
    FakeBackend backend = FakeBackend.builder().cost(Duration.ofMillis(costMillis))
        .duringClose(model -> closedAt.put(model.offset(), System.nanoTime())).build();
    long bound = boundKib * 1024L;
    ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .responseCacheBytes(bound).build();
    server.registry().configure(MODEL, ModelConfig.builder().responseCache(true)
        .versionPolicy(keepAllVersions ? VersionPolicy.all() : VersionPolicy.latest(1))
        .warmup(false).drainGrace(Duration.ofMillis(20)).build());
    Map<Double, Long> loadedAt = new ConcurrentHashMap<>();
    AtomicInteger loads = new AtomicInteger();
    List<CompletableFuture<?>> lifecycle = new CopyOnWriteArrayList<>();
    List<Sent> sent = new CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(threads.size());
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (List<Action> script : threads) {
      done.add(pool.submit(() -> {
        start.await();
        for (Action action : script) {
          perform(server, action, lifecycle, sent, loadedAt, loads);
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : done) {
      f.get(30, TimeUnit.SECONDS);
    }
    pool.shutdown();
    for (Sent s : sent) {
      s.check(loadedAt, closedAt);
    }
    for (CompletableFuture<?> f : lifecycle) {
      try {
        f.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        assertThat(ModelServingException.codeOf(e)).as("lifecycle failure %s", e).isPresent()
            .get().isIn(ErrorCode.LOAD_FAILED, ErrorCode.SHUTTING_DOWN,
                ErrorCode.VERSION_NOT_FOUND);
      }
    }
    ResponseCache responses = ((Registry) server.registry()).responses();
    assertThat(responses.weightedSize()).as("weight after maintenance").isLessThanOrEqualTo(bound);
    server.close();
    assertThat(responses.weightedSize()).as("every load closed: nothing left").isZero();
  }

  private static void perform(ModelServer server, Action action,
      List<CompletableFuture<?>> lifecycle, List<Sent> sent, Map<Double, Long> loadedAt,
      AtomicInteger loads) {
    try {
      switch (action) {
        case Load l -> {
          double offset = l.version() * 1000 + loads.incrementAndGet();
          loadedAt.put(offset, System.nanoTime());
          lifecycle.add(server.registry().load(MODEL, l.version(), ModelSource
              .of(Path.of("m.fake")).withOption("offset", Double.toString(offset))));
        }
        case Unload u -> lifecycle.add(server.registry().unload(MODEL, u.version()));
        case Label l -> server.registry().label(MODEL, "stable", l.version());
        case Infer i -> {
          long sentAt = System.nanoTime();
          CompletableFuture<Long> answeredAt = new CompletableFuture<>();
          CompletableFuture<InferenceResult> future = server.inferAsync(InferenceRequest
              .builder(i.ref()).input("x", Tensor.of(new float[] {i.x(), i.x(), i.x(), i.x()},
                  1, 4)).build());
          future.whenComplete((r, e) -> answeredAt.complete(System.nanoTime()));
          sent.add(new Sent(i, sentAt, future, answeredAt));
        }
      }
    } catch (ModelServingException e) {
      assertThat(e.code()).as("%s refused with %s", action, e).isIn(CHURN_CODES);
    }
  }

  /** One request, when it was sent, its answer and when that came. */
  record Sent(Infer request, long sentAt, CompletableFuture<InferenceResult> future,
      CompletableFuture<Long> answeredAt) {
    void check(Map<Double, Long> loadedAt, Map<Double, Long> closedAt) throws Exception {
      InferenceResult result;
      try {
        result = future.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        assertThat(ModelServingException.codeOf(e)).as("%s failed with %s", request, e)
            .isPresent().get().isIn(CHURN_CODES);
        return;
      }
      float[] y = result.requireOutput("y").toFloatArray();
      double offset = y[0] - 2.0 * request.x();
      assertThat(y).as("%s: one answer for every element", request).containsOnly(y[0]);
      assertThat((long) offset / 1000).as("%s answered %s by version %d", request, y[0],
          result.version()).isEqualTo(result.version());
      if (request.ref().matches("m:\\d")) {
        assertThat(result.version()).isEqualTo(Long.parseLong(request.ref().substring(2)));
      }
      Long loaded = loadedAt.get(offset);
      assertThat(loaded).as("%s: no load had offset %s", request, offset).isNotNull();
      assertThat(loaded).as("%s: the load started after the answer", request)
          .isLessThanOrEqualTo(answeredAt.get());
      Long closed = closedAt.get(offset);
      if (closed != null) {
        assertThat(sentAt).as("%s (cached: %s) served by load %s, closed before it was sent",
            request, result.timings().cached(), offset).isLessThanOrEqualTo(closed);
      }
    }
  }

  /** Identical requests sent together run the engine once; every caller gets the same answer. */
  @Property(tries = 30)
  void identicalConcurrentMissesRunTheEngineOnce(
      @ForAll @IntRange(min = 2, max = 12) int callers,
      @ForAll @IntRange(min = -100, max = 100) int value) throws Exception {
    CountDownLatch allSent = new CountDownLatch(callers);
    FakeBackend backend = FakeBackend.builder().duringRun(inputs -> {
      try {
        allSent.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }).build();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .responseCacheBytes(1 << 20).build()) {
      server.registry().configure(MODEL, ModelConfig.builder().responseCache(true)
          .warmup(false).build());
      server.registry().load(MODEL, 1, Path.of("m.fake")).get(10, TimeUnit.SECONDS);
      ExecutorService pool = Executors.newFixedThreadPool(callers);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<CompletableFuture<InferenceResult>>> submitted = new ArrayList<>();
      for (int i = 0; i < callers; i++) {
        submitted.add(pool.submit(() -> {
          go.await();
          CompletableFuture<InferenceResult> f = server.inferAsync(InferenceRequest
              .builder(MODEL).input("x", Tensor.of(new float[] {value, value, value, value},
                  1, 4)).build());
          allSent.countDown();
          return f;
        }));
      }
      go.countDown();
      List<InferenceResult> results = new ArrayList<>();
      for (Future<CompletableFuture<InferenceResult>> f : submitted) {
        results.add(f.get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS));
      }
      pool.shutdown();
      assertThat(backend.loaded().stream().mapToInt(FakeModel::runCalls).sum()).isEqualTo(1);
      assertThat(results).allSatisfy(r -> assertThat(r.requireOutput("y").toFloatArray())
          .containsOnly(2f * value));
      assertThat(results.stream().filter(r -> !r.timings().cached()).count()).isEqualTo(1);
    }
  }
}
