package dev.modserv.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonObject;
import dev.modserv.api.Capability;
import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.ModuleServices;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxBackendTest {
  private final OnnxBackend backend = new OnnxBackend();
  private final java.util.List<LoadedModel> loaded = new java.util.ArrayList<>();

  @AfterEach
  void closeModels() throws Exception {
    for (LoadedModel m : loaded) {
      m.close();
    }
  }

  private LoadedModel load(ModelSource source) throws Exception {
    LoadedModel m = backend.load(source);
    loaded.add(m);
    return m;
  }

  private LoadedModel load(String name) throws Exception {
    return load(ModelSource.of(TestModels.model(name)));
  }

  @Test
  void mlpMatchesNumpy() throws Exception {
    JsonObject ref = TestModels.references().getAsJsonObject("mlp");
    LoadedModel mlp = load("mlp.onnx");
    Map<String, Tensor> out =
        mlp.run(Map.of("x", Tensor.of(TestModels.floats(ref, "x"), 3, 4)), Set.of());
    Tensor y = out.get("y");
    assertThat(y.shape()).containsExactly(3, 3);
    float[] expected = TestModels.floats(ref, "y");
    float[] actual = y.toFloatArray();
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i]).as("y[%d]", i).isCloseTo(expected[i], within(1e-5f));
    }
  }

  @Test
  void directBufferInputsGiveTheSameAnswer() throws Exception {
    JsonObject ref = TestModels.references().getAsJsonObject("mlp");
    float[] x = TestModels.floats(ref, "x");
    ByteBuffer direct = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.nativeOrder());
    direct.asFloatBuffer().put(x);
    Tensor wrapped = Tensor.wrap(DataType.FP32, direct, 3, 4);
    assertThat(wrapped.isDirect()).isTrue();
    ByteBuffer bigEndian = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.BIG_ENDIAN);
    bigEndian.asFloatBuffer().put(x);
    LoadedModel mlp = load("mlp.onnx");
    Tensor heap = mlp.run(Map.of("x", Tensor.of(x, 3, 4)), Set.of()).get("y");
    assertThat(mlp.run(Map.of("x", wrapped), Set.of()).get("y")).isEqualTo(heap);
    assertThat(mlp.run(Map.of("x", Tensor.wrap(DataType.FP32, bigEndian, 3, 4)), Set.of())
        .get("y")).isEqualTo(heap);
  }

  /** Rows {@code rows} of the reference x, and of the y numpy computed for them. */
  private static float[][] mlpRows(int... rows) {
    JsonObject ref = TestModels.references().getAsJsonObject("mlp");
    float[] x = TestModels.floats(ref, "x");
    float[] y = TestModels.floats(ref, "y");
    float[] xs = new float[rows.length * 4];
    float[] ys = new float[rows.length * 3];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(x, rows[i] * 4, xs, i * 4, 4);
      System.arraycopy(y, rows[i] * 3, ys, i * 3, 3);
    }
    return new float[][] {xs, ys};
  }

  private static void assertRows(Tensor y, float[] expected) {
    assertThat(y.shape()).containsExactly(expected.length / 3, 3);
    float[] actual = y.toFloatArray();
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i]).as("y[%d]", i).isCloseTo(expected[i], within(1e-5f));
    }
  }

  @Test
  void answersAreCopiedOutOfTheBuffersTheNextRunReuses() throws Exception {
    LoadedModel mlp = load("mlp.onnx");
    float[][] three = mlpRows(0, 1, 2);
    Tensor first = mlp.run(Map.of("x", Tensor.of(three[0], 3, 4)), Set.of()).get("y");
    // Smaller, then larger batches go through the same buffers: each answer is its own.
    float[][] one = mlpRows(1);
    Tensor second = mlp.run(Map.of("x", Tensor.of(one[0], 1, 4)), Set.of()).get("y");
    int[] manyRows = new int[40];
    for (int i = 0; i < manyRows.length; i++) {
      manyRows[i] = (i * 7) % 3;
    }
    float[][] many = mlpRows(manyRows);
    Tensor third = mlp.run(Map.of("x", Tensor.of(many[0], 40, 4)), Set.of()).get("y");
    assertRows(first, three[1]);
    assertRows(second, one[1]);
    assertRows(third, many[1]);
  }

  @Test
  void runsAtOnceEachGetTheirOwnAnswers() throws Exception {
    LoadedModel mlp = load("mlp.onnx");
    int threads = 8;
    ExecutorService pool =
        Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int seed = t;
        done.add(pool.submit(() -> {
          Random random = new Random(seed);
          for (int run = 0; run < 300; run++) {
            int[] rows = new int[1 + random.nextInt(9)];
            for (int i = 0; i < rows.length; i++) {
              rows[i] = random.nextInt(3);
            }
            float[][] xy = mlpRows(rows);
            assertRows(mlp.run(Map.of("x", Tensor.of(xy[0], rows.length, 4)), Set.of())
                .get("y"), xy[1]);
          }
          return 300;
        }));
      }
      for (Future<Integer> f : done) {
        assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(300);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aModelThatComputesAnotherShapeThanItDeclaresIsAnsweredRight() throws Exception {
    // transposed.onnx declares y [batch, 4] (ONNX Runtime makes it [4, 4]) and computes [4, batch].
    LoadedModel transposed = load("transposed.onnx");
    for (int rows : new int[] {4, 2, 3, 2}) {
      float[] x = new float[rows * 4];
      for (int i = 0; i < x.length; i++) {
        x[i] = i;
      }
      Tensor y = transposed.run(Map.of("x", Tensor.of(x, rows, 4)), Set.of()).get("y");
      assertThat(y.shape()).as("%d rows", rows).containsExactly(4, rows);
      float[] actual = y.toFloatArray();
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < 4; c++) {
          assertThat(actual[c * rows + r]).as("y[%d][%d]", c, r).isEqualTo(x[r * 4 + c]);
        }
      }
    }
  }

  @Test
  void anInputPassedThroughAsAnOutputComesBackAsGiven() throws Exception {
    // passthrough.onnx answers y = -x and x itself; ONNX Runtime answers x with the input and
    // would leave a buffer given for it unwritten.
    LoadedModel passthrough = load("passthrough.onnx");
    for (float[] x : new float[][] {{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12}}) {
      Map<String, Tensor> out = passthrough.run(Map.of("x", Tensor.of(x, 3, 2)), Set.of());
      assertThat(out.get("x").toFloatArray()).containsExactly(x);
      float[] negated = out.get("y").toFloatArray();
      for (int i = 0; i < x.length; i++) {
        assertThat(negated[i]).isEqualTo(-x[i]);
      }
    }
  }

  @Test
  void anOutputNoInputSizesIsSizedByTheRuntime() throws Exception {
    LoadedModel flattened = load("flattened.onnx");
    float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    Tensor y = flattened.run(Map.of("x", Tensor.of(x, 3, 4)), Set.of()).get("y");
    assertThat(y.shape()).containsExactly(12);
    assertThat(y.toFloatArray()).containsExactly(x);
  }

  @Test
  void metadataComesFromTheSession() throws Exception {
    ModelMetadata mlp = load("mlp.onnx").metadata();
    assertThat(mlp.engine()).isEqualTo("onnxruntime");
    assertThat(mlp.inputs()).containsExactly(TensorSpec.of("x", DataType.FP32, -1, 4));
    assertThat(mlp.outputs()).containsExactly(TensorSpec.of("y", DataType.FP32, -1, 3));
    assertThat(mlp.capabilities()).containsExactlyInAnyOrder(Capability.TENSOR, Capability.BATCHABLE);
    assertThat(mlp.properties()).containsEntry("producer", "modserv-tests")
        .containsEntry("execution-provider", "cpu").containsKey("onnxruntime.version");

    ModelMetadata fixed = load("fixed.onnx").metadata();
    assertThat(fixed.inputs()).containsExactly(TensorSpec.of("x", DataType.FP32, 2, 3));
    assertThat(fixed.capabilities()).containsExactly(Capability.TENSOR);
  }

  @Test
  void stringAndInt64Inputs() throws Exception {
    JsonObject ref = TestModels.references().getAsJsonObject("mixed");
    LoadedModel mixed = load("mixed.onnx");
    String[] s = {ref.getAsJsonArray("s").get(0).getAsString(),
        ref.getAsJsonArray("s").get(1).getAsString()};
    Map<String, Tensor> out = mixed.run(Map.of(
        "s", Tensor.of(s, 2),
        "a", Tensor.of(TestModels.longs(ref, "a"), 2, 2),
        "b", Tensor.of(TestModels.longs(ref, "b"), 2, 2)), Set.of());
    assertThat(out.get("s_out").strings()).containsExactly("héllo", "");
    assertThat(out.get("sum").toLongArray()).containsExactly(TestModels.longs(ref, "sum"));
    assertThat(out.get("sum").shape()).containsExactly(2, 2);
  }

  @Test
  void everyTypeOrtJavaBuildsGoesThroughUnchanged() throws Exception {
    LoadedModel types = load("types.onnx");
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put("in_fp32", Tensor.of(new float[] {1.5f, -2, 3, Float.NaN}, 2, 2));
    in.put("in_fp64", Tensor.of(new double[] {1e300, -2, 3, 4}, 2, 2));
    in.put("in_fp16", Tensor.of(DataType.FP16, new short[] {
        Float.floatToFloat16(1.5f), Float.floatToFloat16(-2), 0, Float.floatToFloat16(65504)}, 2, 2));
    in.put("in_bf16", Tensor.of(DataType.BF16, new short[] {0x3fc0, (short) 0xc000, 0, 1}, 2, 2));
    in.put("in_int8", Tensor.of(DataType.INT8, new byte[] {-128, 127, 0, 1}, 2, 2));
    in.put("in_int16", Tensor.of(DataType.INT16, new short[] {-32768, 32767, 0, 1}, 2, 2));
    in.put("in_int32", Tensor.of(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 0, 1}, 2, 2));
    in.put("in_int64", Tensor.of(new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 0, 1}, 2, 2));
    in.put("in_uint8", Tensor.of(DataType.UINT8, new byte[] {(byte) 255, 127, 0, 1}, 2, 2));
    in.put("in_bool", Tensor.of(new boolean[] {true, false, false, true}, 2, 2));
    in.put("in_string", Tensor.of(new String[] {"a", "", "ünï", "d"}, 2, 2));
    Map<String, Tensor> out = types.run(in, Set.of());
    assertThat(out).hasSize(11);
    in.forEach((name, tensor) -> assertThat(out.get("out_" + name.substring(3)))
        .as(name).isEqualTo(tensor));
  }

  @Test
  void badInputsAreInvalidInputNamingTheInput() throws Exception {
    LoadedModel mlp = load("mlp.onnx");
    assertInvalid(() -> mlp.run(Map.of("x", Tensor.of(new float[] {1, 2, 3}, 1, 3)), Set.of()),
        "input 'x'", "[-1, 4]", "[1, 3]");
    assertInvalid(() -> mlp.run(Map.of("x", Tensor.of(new int[] {1, 2, 3, 4}, 1, 4)), Set.of()),
        "input 'x'", "expected FP32", "got INT32");
    assertInvalid(() -> mlp.run(Map.of("z", Tensor.of(new float[] {1, 2, 3, 4}, 1, 4)), Set.of()),
        "unknown input 'z'");
    assertInvalid(() -> mlp.run(Map.of(), Set.of()), "missing input 'x'");
    assertInvalid(() -> mlp.run(Map.of("x", Tensor.of(new float[0], 0, 4)), Set.of()),
        "input 'x': expected at least 1 row, got 0");
    assertInvalid(() -> mlp.run(Map.of("x", Tensor.of(new float[] {1, 2, 3, 4}, 1, 4)),
        Set.of("nope")), "unknown output 'nope'");
    // Each input fits its spec, but a batchable model needs the same rows in every input.
    LoadedModel mixed = load("mixed.onnx");
    assertInvalid(() -> mixed.run(Map.of(
        "s", Tensor.of(new String[] {"a"}, 1),
        "a", Tensor.of(new long[] {1, 2, 3, 4}, 2, 2),
        "b", Tensor.of(new long[] {1, 2, 3, 4, 5, 6}, 3, 2)), Set.of()), "input 'a'", "expected as many rows as input 's' (1)", "got 2");
  }

  private static void assertInvalid(ThrowingCall call, String... parts) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(ModelServingException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT))
        .message().contains(parts);
  }

  @FunctionalInterface
  interface ThrowingCall {
    void run() throws Exception;
  }

  @Test
  void unknownOptionsAndBadValuesAreRefusedNamingTheKey() {
    Path mlp = TestModels.model("mlp.onnx");
    assertThatThrownBy(() -> backend.load(ModelSource.of(mlp).withOption("intra-op-thread", "2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'intra-op-thread'").hasMessageContaining("intra-op-threads");
    assertThatThrownBy(() -> backend.load(ModelSource.of(mlp).withOption("intra-op-threads", "x")))
        .hasMessageContaining("'intra-op-threads'").hasMessageContaining("'x'");
    assertThatThrownBy(() -> backend.load(ModelSource.of(mlp).withOption("optimization-level", "max")))
        .hasMessageContaining("none, basic, extended or all");
    assertThatThrownBy(() -> backend.load(ModelSource.of(mlp).withOption("execution-providers", "tpu")))
        .hasMessageContaining("'tpu'");
    assertThatThrownBy(() -> OnnxBackend.builder().option("threads", "2"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'threads'");
  }

  @Test
  void optionsApplyAndCudaFallsBackToCpu() throws Exception {
    OnnxBackend tuned = OnnxBackend.builder().intraOpThreads(1).interOpThreads(1)
        .optimizationLevel("basic").executionMode("sequential").executionProviders("cuda", "cpu")
        .build();
    LoadedModel m = tuned.load(ModelSource.of(TestModels.model("mlp.onnx"))
        .withOption("memory-bytes", "12345"));
    loaded.add(m);
    assertThat(m.metadata().properties()).containsEntry("execution-provider", "cpu");
    assertThat(m.memoryBytes()).isEqualTo(12345);
    assertThat(load("mlp.onnx").memoryBytes())
        .isEqualTo(2 * Files.size(TestModels.model("mlp.onnx")) + (16L << 20));
    // On the CPU a session takes one run per available processor at once.
    assertThat(m.concurrentRuns()).isEqualTo(Runtime.getRuntime().availableProcessors());
  }

  @Test
  void aFolderWithOneOnnxFileLoadsAndOneWithTwoIsRefused(@TempDir Path dir) throws Exception {
    OnnxBackendProvider provider = new OnnxBackendProvider();
    Files.copy(TestModels.model("mlp.onnx"), dir.resolve("model.onnx"));
    assertThat(provider.supports(ModelSource.of(dir))).isTrue();
    assertThat(load(ModelSource.of(dir)).metadata().inputs()).hasSize(1);
    Files.copy(TestModels.model("fixed.onnx"), dir.resolve("other.onnx"));
    assertThat(provider.supports(ModelSource.of(dir))).isFalse();
    assertThatThrownBy(() -> backend.load(ModelSource.of(dir)))
        .hasMessageContaining("2 .onnx files").hasMessageContaining("other.onnx");
    assertThat(provider.supports(ModelSource.of(Path.of("model.gguf")))).isFalse();
    assertThat(provider.supports(ModelSource.of(Path.of("model.ONNX")))).isTrue();
    assertThat(provider.name()).isEqualTo("onnxruntime");
    assertThat(provider.backend()).isSameAs(provider.backend());
  }

  @Test
  void aClosedModelRefusesToRun() throws Exception {
    LoadedModel m = backend.load(ModelSource.of(TestModels.model("mlp.onnx")));
    m.close();
    assertThatThrownBy(() -> m.run(Map.of("x", Tensor.of(new float[4], 1, 4)), Set.of()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }

  @Test
  void moduleInfoAgreesWithTheServicesFile() {
    ModuleServices.assertConsistent(Path.of("target", "classes"));
    assertThat(List.of(OnnxBackendProvider.class.getModifiers()))
        .allMatch(java.lang.reflect.Modifier::isFinal);
  }
}
