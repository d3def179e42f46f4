package dev.modserv.testkit;

import dev.modserv.api.DataType;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.Backend;
import dev.modserv.spi.ModelSource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A fake engine for tests: it "loads" any source whose file name ends with {@code .fake} (the file
 * need not exist) into a {@link FakeModel} that computes {@code y = x * scale + offset} on FP32
 * tensors, and records how it was used. Its cost (time spent in every run: a fixed part per call
 * plus a part per row of the batch), its load delay and its failures are set on the {@link
 * Builder}.
 *
 * <pre>{@code
 * FakeBackend backend = FakeBackend.builder()
 *     .cost(Duration.ofMillis(5))
 *     .rowCost(Duration.ofNanos(20_000))
 *     .runFailureEvery(3, () -> new IllegalStateException("injected"))
 *     .build();
 * FakeModel model = backend.load(ModelSource.of(Path.of("iris.fake")).withOption("scale", "3"));
 * }</pre>
 *
 * <p>Options a source may carry (any other option fails the load):
 *
 * <ul>
 *   <li>{@code scale}: the factor, a decimal number; defaults to 2;
 *   <li>{@code offset}: added after scaling, a decimal number; defaults to 0 (give each version of
 *       a model its own offset to tell their answers apart);
 *   <li>{@code memory-bytes}: what {@link FakeModel#memoryBytes()} reports; defaults to -1;
 *   <li>{@code concurrent-runs}: what {@link FakeModel#concurrentRuns()} reports, at least 1 (the
 *       model itself is thread-safe whatever it says); defaults to 1.
 * </ul>
 *
 * <h2>How the cost is spent</h2>
 *
 * A run takes {@code cost + rowCost * rows}, where {@code rows} is the first dimension of its first
 * input. {@code Thread.sleep} alone is too coarse for engine-like costs of microseconds (it
 * overshoots by tens of microseconds to milliseconds, depending on the OS timer), so a run spends
 * its cost as follows: a cost under 1 ms is spun out on {@link System#nanoTime()} with {@link
 * Thread#onSpinWait()}; of a longer cost, all but the last 1 ms is slept and the rest is spun. A
 * run therefore never takes less than its cost, and rarely more than a few microseconds beyond it
 * when a core is free. Like a real engine, a spinning run keeps its core busy: on a machine with
 * few cores, concurrent runs and their callers compete for CPU. An interrupt during the cost ends
 * the run with {@link InterruptedException}. The load delay is slept, not spun.
 *
 * <p>Thread-safe: a backend may load, and its models may run, from any number of threads.
 */
public final class FakeBackend implements Backend {
  /** The engine name: {@value}. */
  public static final String NAME = "fake";

  /** The file-name suffix of sources this backend supports: {@value}. */
  public static final String SUFFIX = ".fake";

  /** Costs below this are spun out rather than slept; of longer ones, this much is spun. */
  private static final long SPIN_BELOW_NANOS = 1_000_000;

  /** Option keys a source may carry. */
  static final List<String> OPTIONS = List.of("scale", "offset", "memory-bytes",
      "concurrent-runs");

  private final ModelMetadata metadata;
  private final Duration cost;
  private final Duration rowCost;
  private final long costNanos;
  private final long rowCostNanos;
  private final Duration loadDelay;
  private final @Nullable Failure<ModelSource> loadFailure;
  private final @Nullable Failure<Map<String, Tensor>> runFailure;
  private final int runFailureEvery;
  private final @Nullable Supplier<? extends Exception> runFailureEveryCause;
  private final @Nullable Consumer<? super Map<String, Tensor>> duringRun;
  private final @Nullable Consumer<? super FakeModel> duringClose;

  private final List<FakeModel> loaded = new CopyOnWriteArrayList<>();
  private final AtomicInteger loadCalls = new AtomicInteger();
  private final AtomicInteger closeCalls = new AtomicInteger();

  private FakeBackend(Builder b) {
    this.metadata = b.metadata != null ? b.metadata : defaultMetadata();
    this.cost = b.cost != null ? b.cost : Duration.ZERO;
    this.rowCost = b.rowCost != null ? b.rowCost : Duration.ZERO;
    this.costNanos = saturatedNanos(cost);
    this.rowCostNanos = saturatedNanos(rowCost);
    this.loadDelay = b.loadDelay != null ? b.loadDelay : Duration.ZERO;
    this.loadFailure = b.loadFailure;
    this.runFailure = b.runFailure;
    this.runFailureEvery = b.runFailureEvery;
    this.runFailureEveryCause = b.runFailureEveryCause;
    this.duringRun = b.duringRun;
    this.duringClose = b.duringClose;
  }

  /** Returns a builder; every option has a default. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns a backend with every default: {@link #defaultMetadata()}, no cost, no failures. */
  public static FakeBackend create() {
    return builder().build();
  }

  /**
   * Returns the metadata of a model when none is set: engine {@code fake}, one FP32 input {@code x}
   * of shape {@code [-1, 4]}, one FP32 output {@code y} of shape {@code [-1, 4]}, capabilities
   * TENSOR and BATCHABLE.
   */
  public static ModelMetadata defaultMetadata() {
    return ModelMetadata.builder(NAME)
        .input(TensorSpec.of("x", DataType.FP32, -1, 4))
        .output(TensorSpec.of("y", DataType.FP32, -1, 4))
        .build();
  }

  @Override
  public String name() {
    return NAME;
  }

  /** Returns whether the source's file name ends with {@value #SUFFIX} (in any case). */
  @Override
  public boolean supports(ModelSource source) {
    return source.fileName().endsWith(SUFFIX);
  }

  /**
   * Loads a fake model: waits out the load delay, then fails as the builder said or returns a new
   * {@link FakeModel}, which {@link #loaded()} then lists.
   *
   * @throws IllegalArgumentException for a source this backend does not support, or an unknown or
   *     malformed option
   * @throws IllegalStateException when this backend was closed
   * @throws InterruptedException when interrupted during the load delay
   * @throws Exception the injected load failure
   */
  @Override
  public FakeModel load(ModelSource source) throws Exception {
    loadCalls.incrementAndGet();
    if (closeCalls.get() > 0) {
      throw new IllegalStateException("fake backend closed");
    }
    if (!supports(source)) {
      throw new IllegalArgumentException(
          "the fake backend loads *" + SUFFIX + " sources, not '" + source.location() + "'");
    }
    for (String key : source.options().keySet()) {
      if (!OPTIONS.contains(key)) {
        throw new IllegalArgumentException(
            "unknown option '" + key + "' for the fake backend; it reads " + OPTIONS);
      }
    }
    double scale = decimal(source, "scale", 2);
    double offset = decimal(source, "offset", 0);
    long memoryBytes = wholeNumber(source, "memory-bytes", -1);
    long concurrentRuns = wholeNumber(source, "concurrent-runs", 1);
    if (concurrentRuns < 1 || concurrentRuns > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "option 'concurrent-runs' must be a whole number from 1, got " + concurrentRuns);
    }
    sleep(loadDelay);
    if (loadFailure != null && loadFailure.when().test(source)) {
      throw loadFailure.cause().get();
    }
    FakeModel model = new FakeModel(this, source, metadata, scale, offset, memoryBytes,
        (int) concurrentRuns);
    loaded.add(model);
    return model;
  }

  private static double decimal(ModelSource source, String key, double fallback) {
    String text = source.options().get(key);
    if (text == null) {
      return fallback;
    }
    try {
      double value = Double.parseDouble(text);
      if (Double.isFinite(value)) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        "option '" + key + "' must be a finite decimal number, got '" + text + "'");
  }

  private static long wholeNumber(ModelSource source, String key, long fallback) {
    String text = source.options().get(key);
    if (text == null) {
      return fallback;
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "option '" + key + "' must be a whole number, got '" + text + "'", e);
    }
  }

  /** Returns the models this backend loaded, in load order (failed loads are not listed). */
  public List<FakeModel> loaded() {
    return List.copyOf(loaded);
  }

  /** Returns how many times {@link #load} was called, failed loads included. */
  public int loadCalls() {
    return loadCalls.get();
  }

  /** Marks this backend closed; later loads fail. Models already loaded keep working. */
  @Override
  public void close() {
    closeCalls.incrementAndGet();
  }

  /** Returns how many times {@link #close()} was called. */
  public int closeCalls() {
    return closeCalls.get();
  }

  /** Returns whether {@link #close()} was called. */
  public boolean isClosed() {
    return closeCalls.get() > 0;
  }

  @Override
  public String toString() {
    return "FakeBackend[loaded=" + loaded.size() + ", cost=" + cost + ", rowCost=" + rowCost + "]";
  }

  // ---- what FakeModel asks of its backend ----

  /** Returns the time a run of {@code rows} rows takes, in nanoseconds (saturated, never < 0). */
  long costNanos(long rows) {
    long perRows;
    try {
      perRows = Math.multiplyExact(rowCostNanos, Math.max(0, rows));
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
    long total = costNanos + perRows;
    return total < 0 ? Long.MAX_VALUE : total;
  }

  private static long saturatedNanos(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /**
   * Spends {@code nanos} as an engine would: spins on {@link System#nanoTime()} for the last 1 ms
   * and sleeps before that (see the class comment).
   *
   * @throws InterruptedException when interrupted while sleeping or spinning; the interrupt status
   *     is then cleared, as {@link Thread#sleep} does
   */
  static void spend(long nanos) throws InterruptedException {
    if (nanos <= 0) {
      return;
    }
    long start = System.nanoTime();
    long sleepNanos = nanos - SPIN_BELOW_NANOS;
    if (sleepNanos > 0) {
      Thread.sleep(Duration.ofNanos(sleepNanos));
    }
    while (System.nanoTime() - start < nanos) {
      if (Thread.interrupted()) {
        throw new InterruptedException("interrupted during the fake engine's cost");
      }
      Thread.onSpinWait();
    }
  }

  /** Runs the hook and throws the injected failure, if any, for run number {@code call}. */
  void beforeCompute(Map<String, Tensor> inputs, int call) throws Exception {
    if (duringRun != null) {
      duringRun.accept(inputs);
    }
    if (runFailureEveryCause != null && call % runFailureEvery == 0) {
      throw runFailureEveryCause.get();
    }
    if (runFailure != null && runFailure.when().test(inputs)) {
      throw runFailure.cause().get();
    }
  }

  /** Runs the close hook, if any, for {@code model}, which counts as closed already. */
  void duringClose(FakeModel model) {
    if (duringClose != null) {
      duringClose.accept(model);
    }
  }

  static void sleep(Duration duration) throws InterruptedException {
    if (duration.isPositive()) {
      Thread.sleep(duration);
    }
  }

  private record Failure<T>(Predicate<? super T> when, Supplier<? extends Exception> cause) {}

  /**
   * Builds a {@link FakeBackend}. Each option may be set once; each setter checks its argument at
   * once. {@link #build()} may be called again for more, independent backends.
   */
  public static final class Builder {
    private @Nullable ModelMetadata metadata;
    private @Nullable Duration cost;
    private @Nullable Duration rowCost;
    private @Nullable Duration loadDelay;
    private @Nullable Failure<ModelSource> loadFailure;
    private @Nullable Failure<Map<String, Tensor>> runFailure;
    private int runFailureEvery;
    private @Nullable Supplier<? extends Exception> runFailureEveryCause;
    private @Nullable Consumer<? super Map<String, Tensor>> duringRun;
    private @Nullable Consumer<? super FakeModel> duringClose;

    private Builder() {}

    /**
     * Sets what every loaded model takes and gives; defaults to {@link #defaultMetadata()}. Every
     * input and output must be FP32, with at least one input and one output: output {@code i} is
     * computed from input {@code min(i, inputs - 1)}, whose shape it takes.
     *
     * @throws IllegalArgumentException when a tensor is not FP32, or inputs or outputs are missing
     */
    public Builder metadata(ModelMetadata metadata) {
      requireUnset(this.metadata, "metadata");
      if (metadata.inputs().isEmpty() || metadata.outputs().isEmpty()) {
        throw new IllegalArgumentException(
            "a fake model needs at least one input and one output: " + metadata);
      }
      for (TensorSpec spec : concat(metadata.inputs(), metadata.outputs())) {
        if (spec.dataType() != DataType.FP32) {
          throw new IllegalArgumentException(
              "a fake model computes FP32 only; '" + spec.name() + "' is " + spec.dataType());
        }
      }
      this.metadata = metadata;
      return this;
    }

    private static List<TensorSpec> concat(List<TensorSpec> a, List<TensorSpec> b) {
      return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }

    /**
     * Sets how long every run takes, as an engine's fixed time per call (per batch), whatever its
     * rows; defaults to zero. Short costs are spun out rather than slept, for accuracy; see the
     * class comment.
     */
    public Builder cost(Duration cost) {
      requireUnset(this.cost, "cost");
      this.cost = requireNotNegative(cost, "cost");
      return this;
    }

    /**
     * Sets how long every run takes per row of its batch (the first dimension of its first input),
     * on top of {@link #cost(Duration)}; defaults to zero. With {@code cost(200 µs)} and {@code
     * rowCost(20 µs)}, a run of 1 row takes 220 µs and a run of 32 rows 840 µs.
     */
    public Builder rowCost(Duration rowCost) {
      requireUnset(this.rowCost, "rowCost");
      this.rowCost = requireNotNegative(rowCost, "rowCost");
      return this;
    }

    /** Sets how long every load sleeps before it succeeds or fails; defaults to zero. */
    public Builder loadDelay(Duration loadDelay) {
      requireUnset(this.loadDelay, "loadDelay");
      this.loadDelay = requireNotNegative(loadDelay, "loadDelay");
      return this;
    }

    /**
     * Makes every load fail with a fresh exception from {@code cause}; loads succeed by default.
     */
    public Builder loadFailure(Supplier<? extends Exception> cause) {
      return loadFailure(source -> true, cause);
    }

    /**
     * Makes the loads of the sources {@code when} accepts fail with a fresh exception from {@code
     * cause}, after the load delay. A failed load leaves no model in {@link #loaded()}.
     */
    public Builder loadFailure(
        Predicate<? super ModelSource> when, Supplier<? extends Exception> cause) {
      requireUnset(this.loadFailure, "loadFailure");
      this.loadFailure =
          new Failure<>(
              Objects.requireNonNull(when, "when"), Objects.requireNonNull(cause, "cause"));
      return this;
    }

    /**
     * Makes the runs whose inputs {@code when} accepts fail with a fresh exception from {@code
     * cause}; runs succeed by default. The predicate is evaluated inside the run, after the cost,
     * while the run counts as in flight. A failed run still counts in {@link FakeModel#runCalls()}.
     */
    public Builder runFailure(
        Predicate<? super Map<String, Tensor>> when, Supplier<? extends Exception> cause) {
      requireUnset(this.runFailure, "runFailure");
      this.runFailure =
          new Failure<>(
              Objects.requireNonNull(when, "when"), Objects.requireNonNull(cause, "cause"));
      return this;
    }

    /**
     * Makes every {@code n}th run of each model (its run number {@code n}, {@code 2n}, ...) fail
     * with a fresh exception from {@code cause}.
     *
     * @throws IllegalArgumentException when {@code n < 1}
     */
    public Builder runFailureEvery(int n, Supplier<? extends Exception> cause) {
      requireUnset(this.runFailureEveryCause, "runFailureEvery");
      if (n < 1) {
        throw new IllegalArgumentException("runFailureEvery needs n >= 1: " + n);
      }
      this.runFailureEvery = n;
      this.runFailureEveryCause = Objects.requireNonNull(cause, "cause");
      return this;
    }

    /**
     * Sets an action every run calls with its inputs, after the cost and while the run counts as in
     * flight, before any injected failure: a test can block it on a latch to hold a batch inside
     * the engine. An exception it throws fails the run.
     */
    public Builder duringRun(Consumer<? super Map<String, Tensor>> action) {
      requireUnset(this.duringRun, "duringRun");
      this.duringRun = Objects.requireNonNull(action, "action");
      return this;
    }

    /**
     * Sets an action every {@link FakeModel#close()} calls with the model, after it counts as
     * closed: a test can block it to stand for an engine whose close takes seconds. An exception
     * it throws comes out of {@code close()}.
     */
    public Builder duringClose(Consumer<? super FakeModel> action) {
      requireUnset(this.duringClose, "duringClose");
      this.duringClose = Objects.requireNonNull(action, "action");
      return this;
    }

    /** Returns a new backend; this builder is left as it was. */
    public FakeBackend build() {
      return new FakeBackend(this);
    }

    private static void requireUnset(@Nullable Object current, String option) {
      if (current != null) {
        throw new IllegalStateException(option + " was already set to " + current);
      }
    }

    private static Duration requireNotNegative(Duration duration, String option) {
      if (duration.isNegative()) {
        throw new IllegalArgumentException(option + " must not be negative: " + duration);
      }
      return duration;
    }
  }
}
