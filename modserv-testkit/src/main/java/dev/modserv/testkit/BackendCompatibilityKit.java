package dev.modserv.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.modserv.api.Capability;
import dev.modserv.api.DataType;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.Backend;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Backend} must do, as JUnit 5 tests. An engine module runs them with a one-class
 * subclass in its tests that names the backend, a small model it supports and valid inputs for that
 * model:
 *
 * <pre>{@code
 * class OnnxBackendCompatibilityTest extends BackendCompatibilityKit {
 *   protected Backend backend() { return new OnnxBackend(); }
 *   protected ModelSource source() { return ModelSource.of(Path.of("src/test/resources/a.onnx")); }
 *   protected Map<String, Tensor> sampleInputs() {
 *     return Map.of("x", Tensor.of(new float[] {1, 2, 3, 4}, 1, 4));
 *   }
 * }
 * }</pre>
 *
 * <p>Lifecycle: {@link #backend()} is called once before each test; the kit closes every model it
 * loaded after each test (each exactly once, as a model server does), but never the backend, which
 * belongs to the subclass: a backend that is costly to start may be shared by every test and closed
 * in an {@code @AfterAll} method. Subclasses may add engine-specific tests, using {@link #load()}
 * and {@link #close(LoadedModel)} so that the kit keeps track of models.
 *
 * <p>A test that does not apply to the model (the batching test, for a model that is not {@link
 * Capability#BATCHABLE}) is skipped with the reason, not passed. The test methods are public, so
 * that an engine whose models must not run concurrently can override {@link
 * #concurrentRunsAgreeWithALoneCall()} with {@code @Disabled("the reason")}.
 */
public abstract class BackendCompatibilityKit {
  /** Threads of the concurrency test. */
  protected static final int THREADS = 4;

  /** Calls per thread of the concurrency test. */
  protected static final int CALLS_PER_THREAD = 25;

  private static final long TIMEOUT_SECONDS = 120;

  private Backend subject;
  private final List<LoadedModel> open = new ArrayList<>();

  /** Returns the backend under test; called once before each test. */
  protected abstract Backend backend();

  /** Returns a small model that the backend supports; called whenever the kit loads one. */
  protected abstract ModelSource source();

  /**
   * Returns valid inputs for the model of {@link #source()}, by input name: every input of its
   * metadata, with a first dimension of at least 1 (rows) when the model is batchable.
   */
  protected abstract Map<String, Tensor> sampleInputs();

  /**
   * Returns the relative tolerance used when rows computed in a batch are compared with the same
   * rows computed alone (engines may pick other kernels for other batch sizes); defaults to {@code
   * 1e-5}. Every other comparison is exact.
   */
  protected double tolerance() {
    return 1e-5;
  }

  @BeforeEach
  final void createBackend() {
    subject = backend();
    assertNotNull(subject, "backend() returned null");
  }

  @AfterEach
  final void closeModels() throws Exception {
    Exception failure = null;
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    open.clear();
    if (failure != null) {
      throw failure;
    }
  }

  /** Loads {@link #source()} with the backend under test; the kit closes it after the test. */
  protected final LoadedModel load() throws Exception {
    LoadedModel model = subject.load(source());
    assertNotNull(model, "load returned null");
    open.add(model);
    return model;
  }

  /** Closes a model from {@link #load()} now, instead of after the test. */
  protected final void close(LoadedModel model) throws Exception {
    assertTrue(open.remove(model), "not a model of this test, or closed already: " + model);
    model.close();
  }

  // ---- the contract ----

  @Test
  @DisplayName("has a name and supports its own source")
  public void supportsItsOwnSource() {
    assertFalse(subject.name().isBlank(), "a backend's name must not be blank");
    assertTrue(subject.supports(source()), subject.name() + " must support " + source());
  }

  @Test
  @DisplayName("load gives metadata with inputs and outputs, which the sample inputs match")
  public void loadGivesMetadata() throws Exception {
    LoadedModel model = load();
    ModelMetadata metadata = model.metadata();
    assertEquals(subject.name(), metadata.engine(), "metadata names the engine that loaded it");
    assertFalse(metadata.inputs().isEmpty(), "a model declares at least one input");
    assertFalse(metadata.outputs().isEmpty(), "a model declares at least one output");
    Map<String, Tensor> sample = sampleInputs();
    assertEquals(
        names(metadata.inputs()),
        new LinkedHashSet<>(sample.keySet()),
        "sampleInputs() must name exactly the model's inputs");
    for (TensorSpec spec : metadata.inputs()) {
      Tensor t = sample.get(spec.name());
      assertNotNull(t, spec.name());
      assertConforms(spec, t, "sample input");
    }
    assertEquals(metadata, model.metadata(), "metadata must not change while the model is loaded");
  }

  @Test
  @DisplayName("run returns every declared output, each fitting its spec")
  public void runReturnsEveryDeclaredOutput() throws Exception {
    LoadedModel model = load();
    Map<String, Tensor> out = model.run(sampleInputs(), Set.of());
    List<TensorSpec> specs = model.metadata().outputs();
    assertEquals(names(specs), new LinkedHashSet<>(out.keySet()), "with no output named, all");
    for (TensorSpec spec : specs) {
      Tensor t = out.get(spec.name());
      assertNotNull(t, spec.name());
      assertConforms(spec, t, "output");
    }
  }

  @Test
  @DisplayName("run returns only the output asked for")
  public void runReturnsOnlyTheRequestedOutput() throws Exception {
    LoadedModel model = load();
    Map<String, Tensor> all = model.run(sampleInputs(), Set.of());
    for (TensorSpec spec : model.metadata().outputs()) {
      Map<String, Tensor> one = model.run(sampleInputs(), Set.of(spec.name()));
      assertEquals(Set.of(spec.name()), one.keySet(), "asked for '" + spec.name() + "' only");
      assertEquals(all.get(spec.name()), one.get(spec.name()), "the same value as with all");
    }
  }

  @Test
  @DisplayName("run is deterministic: the same inputs twice give equal outputs")
  public void runIsDeterministic() throws Exception {
    LoadedModel model = load();
    Map<String, Tensor> first = model.run(sampleInputs(), Set.of());
    Map<String, Tensor> second = model.run(sampleInputs(), Set.of());
    assertEquals(first, second);
  }

  @Test
  @DisplayName("concurrent runs (4 threads x 25 calls) give the answers of a lone call")
  public void concurrentRunsAgreeWithALoneCall() throws Exception {
    LoadedModel model = load();
    Map<String, Tensor> inputs = sampleInputs();
    Map<String, Tensor> expected = model.run(inputs, Set.of());
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      CyclicBarrier start = new CyclicBarrier(THREADS);
      List<Future<List<String>>> futures = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        futures.add(
            pool.submit(
                () -> {
                  start.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                  List<String> mismatches = new ArrayList<>();
                  for (int call = 0; call < CALLS_PER_THREAD; call++) {
                    Map<String, Tensor> out = model.run(inputs, Set.of());
                    if (!expected.equals(out)) {
                      mismatches.add("call " + call + " gave " + out);
                    }
                  }
                  return mismatches;
                }));
      }
      List<String> mismatches = new ArrayList<>();
      for (Future<List<String>> f : futures) {
        mismatches.addAll(f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
      }
      assertEquals(
          List.of(), mismatches, "every concurrent call must give the lone call's " + expected);
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(TIMEOUT_SECONDS, TimeUnit.SECONDS), "runs did not finish");
    }
  }

  @Test
  @DisplayName("closing a model once succeeds, and the backend loads and runs again after it")
  public void closeOnceSucceeds() throws Exception {
    LoadedModel first = load();
    Map<String, Tensor> before = first.run(sampleInputs(), Set.of());
    close(first);
    LoadedModel again = load();
    assertEquals(before, again.run(sampleInputs(), Set.of()));
  }

  @Test
  @DisplayName("a batchable model gives as many output rows as input rows, each row as alone")
  public void batchableOutputsFollowInputRows() throws Exception {
    LoadedModel model = load();
    ModelMetadata metadata = model.metadata();
    assumeTrue(metadata.has(Capability.BATCHABLE), "the model is not BATCHABLE");
    Map<String, Tensor> sample = sampleInputs();
    long rows = commonRows(sample);

    Map<String, Tensor> alone = model.run(sample, Set.of());
    for (TensorSpec spec : metadata.outputs()) {
      Tensor t = alone.get(spec.name());
      assertNotNull(t, spec.name());
      assertTrue(t.rank() >= 1, "output '" + spec.name() + "' of a batchable model has rows");
      assertEquals(rows, t.dim(0), "rows of output '" + spec.name() + "'");
    }

    Map<String, Tensor> twice = new LinkedHashMap<>();
    sample.forEach((name, t) -> twice.put(name, stack(t, t)));
    Map<String, Tensor> batched = model.run(twice, Set.of());
    for (TensorSpec spec : metadata.outputs()) {
      Tensor t = batched.get(spec.name());
      Tensor one = alone.get(spec.name());
      assertNotNull(t, spec.name());
      assertNotNull(one, spec.name());
      assertEquals(2 * rows, t.dim(0), "rows of output '" + spec.name() + "' for a doubled batch");
      assertClose(one, rows(t, 0, rows), "first half of '" + spec.name() + "'");
      assertClose(one, rows(t, rows, rows), "second half of '" + spec.name() + "'");
    }
  }

  @Test
  @DisplayName(
      "a second load of the same source is independent: closing one leaves the other working")
  public void secondLoadIsIndependent() throws Exception {
    LoadedModel first = load();
    LoadedModel second = load();
    assertNotSame(first, second, "each load gives a new model");
    Map<String, Tensor> expected = first.run(sampleInputs(), Set.of());
    assertEquals(expected, second.run(sampleInputs(), Set.of()));
    close(first);
    assertEquals(expected, second.run(sampleInputs(), Set.of()), "after the first was closed");
  }

  // ---- helpers ----

  private static Set<String> names(List<TensorSpec> specs) {
    Set<String> names = new LinkedHashSet<>();
    specs.forEach(s -> names.add(s.name()));
    return names;
  }

  private static void assertConforms(TensorSpec spec, Tensor t, String what) {
    String label = what + " '" + spec.name() + "'";
    assertEquals(spec.dataType(), t.dataType(), label + ": data type");
    if (!spec.isRankKnown()) {
      return;
    }
    long[] expected = spec.shape();
    long[] actual = t.shape();
    assertEquals(
        expected.length,
        actual.length,
        label + ": rank of " + Arrays.toString(actual) + " against " + spec);
    for (int i = 0; i < expected.length; i++) {
      if (expected[i] != -1 && expected[i] != actual[i]) {
        fail(label + ": shape " + Arrays.toString(actual) + " does not fit " + spec);
      }
    }
  }

  private static long commonRows(Map<String, Tensor> inputs) {
    long rows = -1;
    for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
      Tensor t = e.getValue();
      assertTrue(t.rank() >= 1, "sample input '" + e.getKey() + "' of a batchable model has rows");
      if (rows == -1) {
        rows = t.dim(0);
      }
      assertEquals(rows, t.dim(0), "every sample input has the same rows; '" + e.getKey() + "'");
    }
    assertTrue(rows >= 1, "sample inputs of a batchable model have at least one row");
    return rows;
  }

  /** Stacks {@code b}'s rows under {@code a}'s. */
  static Tensor stack(Tensor a, Tensor b) {
    long[] shape = a.shape();
    shape[0] += b.dim(0);
    if (a.dataType() == DataType.STRING) {
      List<String> all = new ArrayList<>(a.strings());
      all.addAll(b.strings());
      return Tensor.of(all.toArray(new String[0]), shape);
    }
    ByteBuffer ab = a.toByteBuffer();
    ByteBuffer bb = b.toByteBuffer();
    ByteBuffer both =
        ByteBuffer.allocate(ab.remaining() + bb.remaining()).order(ByteOrder.nativeOrder());
    both.put(ab).put(bb).flip();
    return Tensor.wrap(a.dataType(), both, shape);
  }

  /** Returns {@code count} rows of {@code t} from row {@code from}. */
  static Tensor rows(Tensor t, long from, long count) {
    long[] shape = t.shape();
    int perRow = Math.toIntExact(t.elementCount() / shape[0]);
    shape[0] = count;
    int start = Math.toIntExact(from * perRow);
    int length = Math.toIntExact(count * perRow);
    if (t.dataType() == DataType.STRING) {
      return Tensor.of(t.strings().subList(start, start + length).toArray(new String[0]), shape);
    }
    int size = t.dataType().byteSize();
    ByteBuffer slice =
        t.toByteBuffer().slice(start * size, length * size).order(ByteOrder.nativeOrder());
    return Tensor.wrap(t.dataType(), slice, shape);
  }

  private void assertClose(Tensor expected, Tensor actual, String what) {
    assertEquals(expected.dataType(), actual.dataType(), what + ": data type");
    assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
    double[] e = asDoubles(expected);
    double[] a = asDoubles(actual);
    if (e.length == 0 && expected.elementCount() > 0) {
      assertEquals(expected, actual, what);
      return;
    }
    for (int i = 0; i < e.length; i++) {
      boolean close =
          Double.compare(e[i], a[i]) == 0
              || Math.abs(e[i] - a[i]) <= tolerance() * Math.max(1, Math.abs(e[i]));
      if (!close) {
        fail(what + ": element " + i + " is " + a[i] + " in a batch, " + e[i] + " alone");
      }
    }
  }

  /** Returns a floating-point tensor's values as doubles; empty for other types. */
  private static double[] asDoubles(Tensor t) {
    double[] out = new double[t.elementCount()];
    switch (t.dataType()) {
      case FP32 -> {
        float[] f = t.toFloatArray();
        for (int i = 0; i < f.length; i++) {
          out[i] = f[i];
        }
      }
      case FP64 -> out = t.toDoubleArray();
      case FP16 -> {
        short[] s = t.toShortArray();
        for (int i = 0; i < s.length; i++) {
          out[i] = Float.float16ToFloat(s[i]);
        }
      }
      case BF16 -> {
        short[] s = t.toShortArray();
        for (int i = 0; i < s.length; i++) {
          out[i] = Float.intBitsToFloat((s[i] & 0xffff) << 16);
        }
      }
      default -> out = new double[0];
    }
    return out;
  }
}
