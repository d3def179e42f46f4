package dev.modserv.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.Capability;
import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.ModelSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class FakeBackendTest {
  private static final ModelSource SOURCE = ModelSource.of(Path.of("m", "1", "model.fake"));
  private static final Map<String, Tensor> X =
      Map.of("x", Tensor.of(new float[] {1, 2, 3, 4}, 1, 4));

  @Test
  void supportsFakeFilesOnly() {
    FakeBackend backend = FakeBackend.create();
    assertThat(backend.name()).isEqualTo("fake");
    assertThat(backend.supports(ModelSource.of(Path.of("a.fake")))).isTrue();
    assertThat(backend.supports(ModelSource.of(Path.of("dir", "A.FAKE")))).isTrue();
    assertThat(backend.supports(ModelSource.of(Path.of("a.onnx")))).isFalse();
    assertThat(backend.supports(ModelSource.of(Path.of("fake")))).isFalse();
    assertThatThrownBy(() -> backend.load(ModelSource.of(Path.of("a.onnx"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the fake backend loads *.fake sources, not 'a.onnx'");
  }

  @Test
  void defaultMetadataIsOneBatchableFp32InputAndOutput() throws Exception {
    ModelMetadata m = FakeBackend.create().load(SOURCE).metadata();
    assertThat(m.engine()).isEqualTo("fake");
    assertThat(m.inputs()).containsExactly(TensorSpec.of("x", DataType.FP32, -1, 4));
    assertThat(m.outputs()).containsExactly(TensorSpec.of("y", DataType.FP32, -1, 4));
    assertThat(m.capabilities()).containsExactlyInAnyOrder(Capability.TENSOR, Capability.BATCHABLE);
    assertThat(FakeBackend.defaultMetadata()).isEqualTo(m);
  }

  @Test
  void computesScaleTimesXPlusOffset() throws Exception {
    FakeBackend backend = FakeBackend.create();
    FakeModel plain = backend.load(SOURCE);
    assertThat(plain.run(X, Set.of()))
        .containsExactly(Map.entry("y", Tensor.of(new float[] {2, 4, 6, 8}, 1, 4)));
    FakeModel tuned = backend.load(SOURCE.withOption("scale", "-1").withOption("offset", "0.5"));
    assertThat(tuned.scale()).isEqualTo(-1);
    assertThat(tuned.offset()).isEqualTo(0.5);
    assertThat(get(tuned.run(X, Set.of("y")), "y").toFloatArray())
        .containsExactly(-0.5f, -1.5f, -2.5f, -3.5f);
    assertThat(backend.loaded()).containsExactly(plain, tuned);
  }

  @Test
  void outputsFollowTheirInputsInCustomMetadata() throws Exception {
    ModelMetadata two =
        ModelMetadata.builder("fake")
            .input(TensorSpec.of("a", DataType.FP32, -1))
            .input(TensorSpec.of("b", DataType.FP32, -1))
            .output(TensorSpec.of("p", DataType.FP32, -1))
            .output(TensorSpec.of("q", DataType.FP32, -1))
            .output(TensorSpec.of("r", DataType.FP32, -1))
            .build();
    FakeModel model = FakeBackend.builder().metadata(two).build().load(SOURCE);
    Map<String, Tensor> out =
        model.run(
            Map.of("a", Tensor.of(new float[] {1}, 1), "b", Tensor.of(new float[] {10, 20}, 2)),
            Set.of());
    assertThat(out.keySet()).containsExactly("p", "q", "r");
    assertThat(get(out, "p").toFloatArray()).containsExactly(2);
    assertThat(get(out, "q").toFloatArray()).containsExactly(20, 40);
    assertThat(get(out, "r").toFloatArray()).containsExactly(20, 40);
  }

  @Test
  void runAfterCloseThrows() throws Exception {
    FakeModel model = FakeBackend.create().load(SOURCE);
    model.run(X, Set.of());
    model.close();
    assertThatThrownBy(() -> model.run(X, Set.of()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("model closed");
    assertThat(model.runsAfterClose()).isEqualTo(1);
    assertThat(model.runCalls()).isEqualTo(1);
    assertThat(model.activeRuns()).isZero();
  }

  @Test
  void closesAreCounted() throws Exception {
    FakeModel model = FakeBackend.create().load(SOURCE);
    assertThat(model.isClosed()).isFalse();
    assertThat(model.closeCalls()).isZero();
    model.close();
    assertThat(model.isClosed()).isTrue();
    assertThat(model.closeCalls()).isEqualTo(1);
    model.close();
    assertThat(model.closeCalls()).isEqualTo(2);
    assertThat(model.closedDuringRun()).isFalse();
  }

  @Test
  void closeDuringARunIsRecorded() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    FakeBackend backend =
        FakeBackend.builder()
            .duringRun(
                inputs -> {
                  running.countDown();
                  await(release);
                })
            .build();
    FakeModel model = backend.load(SOURCE);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Map<String, Tensor>> run = pool.submit(() -> model.run(X, Set.of()));
      assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(model.activeRuns()).isEqualTo(1);
      model.close();
      release.countDown();
      assertThat(run.get(10, TimeUnit.SECONDS)).containsKey("y");
      assertThat(model.closedDuringRun()).isTrue();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void injectedFailuresFollowThePredicate() throws Exception {
    FakeBackend backend =
        FakeBackend.builder()
            .runFailure(
                inputs -> get(inputs, "x").toFloatArray()[0] < 0,
                () -> new IllegalStateException("negative input"))
            .build();
    FakeModel model = backend.load(SOURCE);
    assertThat(model.run(X, Set.of())).containsKey("y");
    Map<String, Tensor> negative = Map.of("x", Tensor.of(new float[] {-1, 0, 0, 0}, 1, 4));
    assertThatThrownBy(() -> model.run(negative, Set.of()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("negative input");
    assertThat(model.run(X, Set.of())).containsKey("y");
    assertThat(model.runCalls()).isEqualTo(3);
  }

  @Test
  void everyNthRunFailsWithAFreshException() throws Exception {
    FakeBackend backend =
        FakeBackend.builder()
            .runFailureEvery(3, () -> new ModelServingException(ErrorCode.BACKEND_ERROR, "third"))
            .build();
    FakeModel model = backend.load(SOURCE);
    List<String> outcomes = new ArrayList<>();
    List<Throwable> failures = new ArrayList<>();
    for (int i = 1; i <= 7; i++) {
      try {
        model.run(X, Set.of());
        outcomes.add("ok");
      } catch (ModelServingException e) {
        outcomes.add(e.code().name());
        failures.add(e);
      }
    }
    assertThat(outcomes)
        .containsExactly("ok", "ok", "BACKEND_ERROR", "ok", "ok", "BACKEND_ERROR", "ok");
    assertThat(failures.get(0)).isNotSameAs(failures.get(1));
    FakeModel other = backend.load(SOURCE);
    assertThat(other.run(X, Set.of())).as("each model counts its own runs").containsKey("y");
  }

  @Test
  void concurrencyCounterSeesEveryOverlappingRun() throws Exception {
    int threads = 4;
    CountDownLatch allInside = new CountDownLatch(threads);
    FakeBackend backend =
        FakeBackend.builder()
            .duringRun(
                inputs -> {
                  allInside.countDown();
                  await(allInside);
                })
            .build();
    FakeModel model = backend.load(SOURCE);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Map<String, Tensor>>> runs = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        runs.add(pool.submit(() -> model.run(X, Set.of())));
      }
      for (Future<Map<String, Tensor>> run : runs) {
        assertThat(run.get(10, TimeUnit.SECONDS)).containsKey("y");
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(model.maxConcurrentRuns()).isEqualTo(threads);
    assertThat(model.runCalls()).isEqualTo(threads);
    assertThat(model.activeRuns()).isZero();
  }

  @Test
  void sequentialRunsNeverOverlap() throws Exception {
    FakeModel model = FakeBackend.create().load(SOURCE);
    for (int i = 0; i < 5; i++) {
      model.run(X, Set.of());
    }
    assertThat(model.maxConcurrentRuns()).isEqualTo(1);
    assertThat(model.runCalls()).isEqualTo(5);
  }

  @Test
  void rowsOfEveryRunAreRecorded() throws Exception {
    FakeModel model = FakeBackend.create().load(SOURCE);
    model.run(X, Set.of());
    model.run(Map.of("x", Tensor.zeros(DataType.FP32, 3, 4)), Set.of());
    assertThat(model.rowsPerRun()).containsExactly(1L, 3L);
  }

  @Test
  void costIsSleptInEveryRun() throws Exception {
    Duration cost = Duration.ofMillis(30);
    FakeModel model = FakeBackend.builder().cost(cost).build().load(SOURCE);
    long start = System.nanoTime();
    model.run(X, Set.of());
    model.run(X, Set.of());
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(cost.multipliedBy(2));
  }

  @Test
  void rowCostIsSpentPerRowOnTopOfTheCost() throws Exception {
    FakeModel model =
        FakeBackend.builder().rowCost(Duration.ofMillis(1)).build().load(SOURCE);
    long start = System.nanoTime();
    model.run(Map.of("x", Tensor.zeros(DataType.FP32, 10, 4)), Set.of());
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("10 rows at 1 ms a row")
        .isGreaterThanOrEqualTo(Duration.ofMillis(10));

    FakeModel both =
        FakeBackend.builder()
            .cost(Duration.ofMillis(5))
            .rowCost(Duration.ofMillis(2))
            .build()
            .load(SOURCE);
    start = System.nanoTime();
    both.run(Map.of("x", Tensor.zeros(DataType.FP32, 3, 4)), Set.of());
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("5 ms a call + 3 rows at 2 ms")
        .isGreaterThanOrEqualTo(Duration.ofMillis(11));
    assertThat(both.rowsPerRun()).containsExactly(3L);
  }

  @Test
  void shortCostsAreSpunOutNotOverslept() throws Exception {
    // 200 µs + 20 µs a row: a sleep would round this up to the OS timer; spinning keeps it close.
    FakeModel model =
        FakeBackend.builder()
            .cost(Duration.ofNanos(200_000))
            .rowCost(Duration.ofNanos(20_000))
            .build()
            .load(SOURCE);
    Map<String, Tensor> twoRows = Map.of("x", Tensor.zeros(DataType.FP32, 2, 4));
    long fastest = Long.MAX_VALUE;
    for (int i = 0; i < 50; i++) {
      long start = System.nanoTime();
      model.run(twoRows, Set.of());
      long took = System.nanoTime() - start;
      assertThat(took).as("never less than the cost").isGreaterThanOrEqualTo(240_000L);
      fastest = Math.min(fastest, took);
    }
    // A generous bound, for noisy machines: the fastest of 50 runs is well within 1 ms of 240 µs.
    assertThat(fastest).isLessThan(1_240_000L);
  }

  @Test
  void anInterruptEndsASpinningRun() throws Exception {
    FakeModel model = FakeBackend.builder().cost(Duration.ofNanos(900_000)).build().load(SOURCE);
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> model.run(X, Set.of())).isInstanceOf(InterruptedException.class);
    } finally {
      Thread.interrupted();
    }
    assertThat(model.run(X, Set.of())).containsKey("y");
  }

  @Test
  void totalRowsSumsEveryRunWithoutKeepingACopyPerRun() throws Exception {
    FakeModel model = FakeBackend.create().load(SOURCE);
    for (int i = 0; i < 100_000; i++) {
      model.run(X, Set.of());
    }
    model.run(Map.of("x", Tensor.zeros(DataType.FP32, 3, 4)), Set.of());
    model.run(X, Set.of());
    assertThat(model.totalRows()).isEqualTo(100_004L);
    List<Long> rows = model.rowsPerRun();
    assertThat(rows).hasSize(100_002);
    assertThat(rows.subList(99_999, 100_002)).containsExactly(1L, 3L, 1L);
  }

  @Test
  void loadDelayIsSlept() throws Exception {
    Duration delay = Duration.ofMillis(30);
    FakeBackend backend = FakeBackend.builder().loadDelay(delay).build();
    long start = System.nanoTime();
    backend.load(SOURCE);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(delay);
  }

  @Test
  void injectedLoadFailuresLeaveNoModel() throws Exception {
    FakeBackend backend =
        FakeBackend.builder()
            .loadFailure(
                source -> source.option("offset").isPresent(),
                () -> new java.io.IOException("corrupt artifact"))
            .build();
    assertThatThrownBy(() -> backend.load(SOURCE.withOption("offset", "1")))
        .isInstanceOf(java.io.IOException.class)
        .hasMessage("corrupt artifact");
    assertThat(backend.loaded()).isEmpty();
    FakeModel ok = backend.load(SOURCE);
    assertThat(backend.loaded()).containsExactly(ok);
    assertThat(backend.loadCalls()).isEqualTo(2);

    FakeBackend always =
        FakeBackend.builder().loadFailure(() -> new IllegalStateException("no")).build();
    assertThatThrownBy(() -> always.load(SOURCE)).hasMessage("no");
    assertThat(always.loaded()).isEmpty();
  }

  @Test
  void optionsAreChecked() throws Exception {
    FakeBackend backend = FakeBackend.create();
    assertThatThrownBy(() -> backend.load(SOURCE.withOption("threads", "2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "unknown option 'threads' for the fake backend; it reads [scale, offset,"
                + " memory-bytes, concurrent-runs]");
    assertThatThrownBy(() -> backend.load(SOURCE.withOption("memory-bytes", "1.5")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("option 'memory-bytes' must be a whole number, got '1.5'");
    assertThatThrownBy(() -> backend.load(SOURCE.withOption("scale", "two")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("option 'scale' must be a finite decimal number, got 'two'");
    assertThatThrownBy(() -> backend.load(SOURCE.withOption("offset", "NaN")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("option 'offset' must be a finite decimal number, got 'NaN'");
    assertThat(backend.load(SOURCE.withOption("memory-bytes", "1048576")).memoryBytes())
        .isEqualTo(1_048_576L);
    assertThat(backend.load(SOURCE).memoryBytes()).isEqualTo(-1);
    assertThat(backend.loaded()).hasSize(2);
  }

  @Test
  void badInputsGiveInvalidInput() throws Exception {
    FakeModel model = FakeBackend.create().load(SOURCE);
    assertInvalid(() -> model.run(Map.of(), Set.of()), "missing input 'x'; the model takes [x]");
    assertInvalid(
        () -> model.run(Map.of("x", X.get("x"), "z", X.get("x")), Set.of()),
        "unknown input 'z'; the model takes [x]");
    assertInvalid(
        () -> model.run(Map.of("x", Tensor.of(new long[] {1, 2, 3, 4}, 1, 4)), Set.of()),
        "input 'x': expected FP32, got INT64");
    assertInvalid(
        () -> model.run(Map.of("x", Tensor.zeros(DataType.FP32, 2, 3)), Set.of()),
        "input 'x': expected shape [-1, 4], got [2, 3]");
    assertInvalid(() -> model.run(X, Set.of("z")), "no output 'z'; the model gives [y]");
    assertThat(model.rowsPerRun()).as("invalid runs record no rows").isEmpty();
  }

  private static void assertInvalid(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String message) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            ModelServingException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT))
        .hasMessage(message);
  }

  @Test
  void aClosedBackendLoadsNothingButItsModelsKeepWorking() throws Exception {
    FakeBackend backend = FakeBackend.create();
    FakeModel model = backend.load(SOURCE);
    backend.close();
    assertThat(backend.isClosed()).isTrue();
    assertThat(backend.closeCalls()).isEqualTo(1);
    assertThatThrownBy(() -> backend.load(SOURCE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("fake backend closed");
    assertThat(model.run(X, Set.of())).containsKey("y");
  }

  @Test
  void builderChecksItsArguments() {
    FakeBackend.Builder b = FakeBackend.builder().cost(Duration.ZERO);
    assertThatThrownBy(() -> b.cost(Duration.ofMillis(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("cost was already set to PT0S");
    assertThatThrownBy(() -> FakeBackend.builder().loadDelay(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("loadDelay must not be negative: PT-0.001S");
    assertThatThrownBy(() -> FakeBackend.builder().rowCost(Duration.ofNanos(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("rowCost must not be negative: PT-0.000000001S");
    assertThatThrownBy(
            () -> FakeBackend.builder().rowCost(Duration.ZERO).rowCost(Duration.ofMillis(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("rowCost was already set to PT0S");
    assertThatThrownBy(() -> FakeBackend.builder().runFailureEvery(0, IllegalStateException::new))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("runFailureEvery needs n >= 1: 0");
    ModelMetadata ints =
        ModelMetadata.builder("fake")
            .input(TensorSpec.of("x", DataType.FP32, -1))
            .output(TensorSpec.of("n", DataType.INT64, -1))
            .build();
    assertThatThrownBy(() -> FakeBackend.builder().metadata(ints))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a fake model computes FP32 only; 'n' is INT64");
    ModelMetadata noOutputs =
        ModelMetadata.builder("fake").input(TensorSpec.of("x", DataType.FP32, -1)).build();
    assertThatThrownBy(() -> FakeBackend.builder().metadata(noOutputs))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("a fake model needs at least one input and one output");
  }

  @Test
  void buildGivesIndependentBackends() throws Exception {
    FakeBackend.Builder b = FakeBackend.builder();
    FakeBackend one = b.build();
    FakeBackend two = b.build();
    one.load(SOURCE);
    assertThat(one.loaded()).hasSize(1);
    assertThat(two.loaded()).isEmpty();
  }

  @Test
  void modelsRunSafelyFromManyThreads() throws Exception {
    FakeModel model = FakeBackend.create().load(SOURCE);
    AtomicBoolean wrong = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        float base = t;
        futures.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 200; i++) {
                    Tensor in = Tensor.of(new float[] {base, i, 0, 0}, 1, 4);
                    float[] y = get(model.run(Map.of("x", in), Set.of()), "y").toFloatArray();
                    if (y[0] != 2 * base || y[1] != 2f * i) {
                      wrong.set(true);
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(wrong).isFalse();
    assertThat(model.runCalls()).isEqualTo(800);
    assertThat(model.rowsPerRun()).hasSize(800);
    assertThat(model.activeRuns()).isZero();
  }

  private static Tensor get(Map<String, Tensor> tensors, String name) {
    return Objects.requireNonNull(tensors.get(name), name);
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("latch timed out");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
