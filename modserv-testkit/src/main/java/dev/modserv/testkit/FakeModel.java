package dev.modserv.testkit;

import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A model loaded by a {@link FakeBackend}. Output {@code i} is input {@code min(i, inputs - 1)} (in
 * the metadata's order) times {@link #scale()} plus {@link #offset()}, element by element, with
 * that input's shape; so with the default metadata, {@code y = x * 2}. Rows are independent: a
 * batch's answer is the rows' answers stacked.
 *
 * <p>It records how it was used, for tests to assert on: {@link #runCalls()}, {@link
 * #maxConcurrentRuns()}, {@link #rowsPerRun()}, {@link #closeCalls()}, {@link #runsAfterClose()}
 * and {@link #closedDuringRun()}. A run after {@link #close()} throws {@code
 * IllegalStateException("model closed")}; closing twice is not an error here, but is counted, so
 * that a test can assert that the server closed the model exactly once.
 *
 * <p>Thread-safe.
 */
public final class FakeModel implements LoadedModel {
  private final FakeBackend backend;
  private final ModelSource source;
  private final ModelMetadata metadata;
  private final double scale;
  private final double offset;
  private final long memoryBytes;
  private final int concurrentRuns;

  private final AtomicInteger runCalls = new AtomicInteger();
  private final AtomicInteger activeRuns = new AtomicInteger();
  private final AtomicInteger maxConcurrentRuns = new AtomicInteger();
  private final AtomicInteger runsAfterClose = new AtomicInteger();
  private final AtomicInteger closeCalls = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean closedDuringRun = new AtomicBoolean();
  private final RowLog rowLog = new RowLog();

  FakeModel(
      FakeBackend backend,
      ModelSource source,
      ModelMetadata metadata,
      double scale,
      double offset,
      long memoryBytes,
      int concurrentRuns) {
    this.backend = backend;
    this.concurrentRuns = concurrentRuns;
    this.source = source;
    this.metadata = metadata;
    this.scale = scale;
    this.offset = offset;
    this.memoryBytes = memoryBytes;
  }

  @Override
  public ModelMetadata metadata() {
    return metadata;
  }

  /**
   * Runs one batch: checks the inputs, spends the backend's cost for its rows ({@code cost +
   * rowCost * rows}, spun or slept as {@link FakeBackend} describes), calls its {@code duringRun}
   * action, throws its injected failure if this run is one to fail, then computes the outputs.
   *
   * @throws IllegalStateException {@code "model closed"} after {@link #close()}
   * @throws ModelServingException with {@link ErrorCode#INVALID_INPUT} for a missing, unknown or
   *     non-FP32 input, a shape that does not fit the metadata, or an unknown output name
   * @throws InterruptedException when interrupted during the cost
   * @throws Exception the injected failure
   */
  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs) throws Exception {
    int now = activeRuns.incrementAndGet();
    try {
      if (closed.get()) {
        runsAfterClose.incrementAndGet();
        throw new IllegalStateException("model closed");
      }
      int call = runCalls.incrementAndGet();
      maxConcurrentRuns.accumulateAndGet(now, Math::max);
      checkInputs(inputs, outputs);
      long rows = rows(inputs);
      rowLog.add(rows);
      FakeBackend.spend(backend.costNanos(rows));
      backend.beforeCompute(inputs, call);
      return compute(inputs, outputs);
    } finally {
      activeRuns.decrementAndGet();
    }
  }

  private void checkInputs(Map<String, Tensor> inputs, Set<String> outputs) {
    List<String> inputNames = metadata.inputs().stream().map(TensorSpec::name).toList();
    for (String name : inputs.keySet()) {
      if (!inputNames.contains(name)) {
        throw invalid("unknown input '" + name + "'; the model takes " + inputNames);
      }
    }
    for (TensorSpec spec : metadata.inputs()) {
      Tensor t = inputs.get(spec.name());
      if (t == null) {
        throw invalid("missing input '" + spec.name() + "'; the model takes " + inputNames);
      }
      if (t.dataType() != DataType.FP32) {
        throw invalid("input '" + spec.name() + "': expected FP32, got " + t.dataType());
      }
      spec.requireAccepts(t);
    }
    for (String name : outputs) {
      if (metadata.output(name).isEmpty()) {
        List<String> names = metadata.outputs().stream().map(TensorSpec::name).toList();
        throw invalid("no output '" + name + "'; the model gives " + names);
      }
    }
  }

  private static ModelServingException invalid(String message) {
    return new ModelServingException(ErrorCode.INVALID_INPUT, message);
  }

  private long rows(Map<String, Tensor> inputs) {
    Tensor first = inputs.get(metadata.inputs().get(0).name());
    return first == null || first.rank() == 0 ? 1 : first.dim(0);
  }

  private Map<String, Tensor> compute(Map<String, Tensor> inputs, Set<String> outputs) {
    List<TensorSpec> ins = metadata.inputs();
    List<TensorSpec> outs = metadata.outputs();
    Map<String, Tensor> result = new LinkedHashMap<>();
    for (int i = 0; i < outs.size(); i++) {
      String name = outs.get(i).name();
      if (!outputs.isEmpty() && !outputs.contains(name)) {
        continue;
      }
      Tensor in = inputs.get(ins.get(Math.min(i, ins.size() - 1)).name());
      if (in == null) {
        throw new IllegalStateException("inputs were checked"); // unreachable
      }
      float[] y = in.toFloatArray();
      for (int j = 0; j < y.length; j++) {
        y[j] = (float) (y[j] * scale + offset);
      }
      result.put(name, Tensor.of(y, in.shape()));
    }
    return result;
  }

  /** Returns the option {@code concurrent-runs} of the source, 1 by default. */
  @Override
  public int concurrentRuns() {
    return concurrentRuns;
  }

  /** Returns the option {@code memory-bytes} of the source, -1 (unknown) by default. */
  @Override
  public long memoryBytes() {
    return memoryBytes;
  }

  /**
   * Closes the model: later runs throw {@code IllegalStateException("model closed")}. Every call is
   * counted, and a call while a run is in flight is recorded ({@link #closedDuringRun()}).
   */
  @Override
  public void close() {
    closeCalls.incrementAndGet();
    closed.set(true);
    if (activeRuns.get() > 0) {
      closedDuringRun.set(true);
    }
    backend.duringClose(this);
  }

  /** Returns the source this model was loaded from. */
  public ModelSource source() {
    return source;
  }

  /** Returns the factor, from the source's {@code scale} option (2 by default). */
  public double scale() {
    return scale;
  }

  /**
   * Returns what is added after scaling, from the source's {@code offset} option (0 by default).
   */
  public double offset() {
    return offset;
  }

  /**
   * Returns how many runs were started before close, failed ones included (runs refused because the
   * model was closed are counted by {@link #runsAfterClose()} instead).
   */
  public int runCalls() {
    return runCalls.get();
  }

  /** Returns how many runs are in flight now. */
  public int activeRuns() {
    return activeRuns.get();
  }

  /** Returns the most runs that were in flight at once. */
  public int maxConcurrentRuns() {
    return maxConcurrentRuns.get();
  }

  /**
   * Returns the rows of every run whose inputs were valid, in the order the runs started: the first
   * dimension of the first input (1 for a scalar).
   */
  public List<Long> rowsPerRun() {
    return rowLog.list();
  }

  /**
   * Returns the sum of {@link #rowsPerRun()}, without copying it: with {@link #runCalls()}, the
   * mean batch size of a load test.
   */
  public long totalRows() {
    return rowLog.totalRows();
  }

  /** Returns how many times {@link #close()} was called. */
  public int closeCalls() {
    return closeCalls.get();
  }

  /** Returns whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed.get();
  }

  /** Returns how many runs were attempted after {@link #close()} (each threw). */
  public int runsAfterClose() {
    return runsAfterClose.get();
  }

  /** Returns whether {@link #close()} was called while a run was in flight. */
  public boolean closedDuringRun() {
    return closedDuringRun.get();
  }

  /**
   * The rows of every run, run-length encoded: runs of one size in a row (the common case of a
   * load test) take one entry, so that millions of runs neither grow memory nor slow {@link #run}
   * down (a copy-on-write list did, quadratically).
   */
  private static final class RowLog {
    private long[] sizes = new long[16];
    private long[] counts = new long[16];
    private int entries;
    private long totalRows;

    synchronized void add(long rows) {
      totalRows += rows;
      if (entries > 0 && sizes[entries - 1] == rows) {
        counts[entries - 1]++;
        return;
      }
      if (entries == sizes.length) {
        sizes = Arrays.copyOf(sizes, entries * 2);
        counts = Arrays.copyOf(counts, entries * 2);
      }
      sizes[entries] = rows;
      counts[entries] = 1;
      entries++;
    }

    synchronized long totalRows() {
      return totalRows;
    }

    synchronized List<Long> list() {
      List<Long> all = new ArrayList<>();
      for (int i = 0; i < entries; i++) {
        for (long c = 0; c < counts[i]; c++) {
          all.add(sizes[i]);
        }
      }
      return Collections.unmodifiableList(all);
    }
  }

  @Override
  public String toString() {
    return "FakeModel["
        + source.location()
        + ", scale="
        + scale
        + ", offset="
        + offset
        + ", runs="
        + runCalls.get()
        + ", closes="
        + closeCalls.get()
        + "]";
  }
}
