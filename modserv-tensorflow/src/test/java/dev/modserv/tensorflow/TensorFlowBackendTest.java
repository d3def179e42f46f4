package dev.modserv.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.modserv.api.Capability;
import dev.modserv.api.DataType;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.ModuleServices;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Known answers, metadata, every served type, options and refusals, on models built by the tests. */
class TensorFlowBackendTest {
  private static final TensorFlowBackend BACKEND = new TensorFlowBackend();
  private static final LoadedModel SOFTMAX = load(ModelSource.of(TestSavedModels.softmax()));
  private static final LoadedModel MULTI = load(ModelSource.of(TestSavedModels.multi()));
  private static final LoadedModel STRINGS = load(ModelSource.of(TestSavedModels.strings()));

  private static LoadedModel load(ModelSource source) {
    try {
      return BACKEND.load(source);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @AfterAll
  static void closeModels() throws Exception {
    SOFTMAX.close();
    MULTI.close();
    STRINGS.close();
  }

  private static final float[] ROWS = {0.5f, -1, 2, 0.25f, 1.5f, 0, -0.5f, 3, 0, 0, 0, 0};

  @Test
  void softmaxMatchesPlainJava() throws Exception {
    Tensor probs = SOFTMAX.run(Map.of("x", Tensor.of(ROWS, 3, 4)), Set.of()).get("probs");
    assertThat(probs.shape()).containsExactly(3, 3);
    float[] got = probs.toFloatArray();
    for (int r = 0; r < 3; r++) {
      float[] row = new float[4];
      System.arraycopy(ROWS, 4 * r, row, 0, 4);
      float[] want = TestSavedModels.softmaxRow(row);
      for (int j = 0; j < 3; j++) {
        assertThat(got[3 * r + j]).as("row %d class %d", r, j).isCloseTo(want[j], within(1e-6f));
      }
    }
  }

  @Test
  void aSessionTakesOneRunPerProcessorAtOnce() {
    assertThat(SOFTMAX.concurrentRuns()).isEqualTo(Runtime.getRuntime().availableProcessors());
  }

  @Test
  void metadataComesFromTheSignature() {
    ModelMetadata m = SOFTMAX.metadata();
    assertThat(m.engine()).isEqualTo("tensorflow");
    assertThat(m.inputs()).containsExactly(TensorSpec.of("x", DataType.FP32, -1, 4));
    assertThat(m.outputs()).containsExactly(TensorSpec.of("probs", DataType.FP32, -1, 3));
    assertThat(m.capabilities()).containsExactlyInAnyOrder(Capability.TENSOR, Capability.BATCHABLE);
    assertThat(m.properties()).containsEntry("signature", "serving_default")
        .containsEntry("tags", "serve").containsKey("tensorflow.version");
    assertThat(MULTI.metadata().inputs()).containsExactly(
        TensorSpec.of("a", DataType.FP64, -1, 2),
        TensorSpec.of("b", DataType.INT64, -1, 2),
        TensorSpec.of("flags", DataType.BOOL, -1, 2),
        TensorSpec.of("ids", DataType.INT32, -1),
        TensorSpec.of("pixels", DataType.UINT8, -1, 3));
    assertThat(MULTI.metadata().outputs()).extracting(TensorSpec::name)
        .containsExactly("brightness", "doubled", "negated", "next", "square", "sum");
    assertThat(STRINGS.metadata().inputs()).containsExactly(TensorSpec.of("text", DataType.STRING, -1));
  }

  @Test
  void theSignatureOptionSelectsAnotherSignature() throws Exception {
    LoadedModel logits =
        BACKEND.load(ModelSource.of(TestSavedModels.softmax()).withOption("signature", "logits"));
    try {
      assertThat(logits.metadata().outputs())
          .containsExactly(TensorSpec.of("logits", DataType.FP32, -1, 3));
      float[] x = {1, 2, 3, 4};
      float[] got = logits.run(Map.of("x", Tensor.of(x, 1, 4)), Set.of()).get("logits")
          .toFloatArray();
      for (int j = 0; j < 3; j++) {
        double z = TestSavedModels.B[j];
        for (int i = 0; i < 4; i++) {
          z += x[i] * TestSavedModels.W[i][j];
        }
        assertThat(got[j]).isCloseTo((float) z, within(1e-5f));
      }
    } finally {
      logits.close();
    }
  }

  @Test
  void aRequestParameterSelectsAnotherSignaturePerRequest() throws Exception {
    LoadedModel model = BACKEND.load(ModelSource.of(TestSavedModels.softmax()));
    try {
      Map<String, String> logits = Map.of(InferenceRequest.SIGNATURE, "logits");
      assertThat(model.metadata(logits).outputs())
          .containsExactly(TensorSpec.of("logits", DataType.FP32, -1, 3));
      assertThat(model.metadata(Map.of()).outputs()).extracting(TensorSpec::name)
          .doesNotContain("logits");
      float[] x = {1, 2, 3, 4};
      float[] got = model.run(Map.of("x", Tensor.of(x, 1, 4)), Set.of(), logits).get("logits")
          .toFloatArray();
      for (int j = 0; j < 3; j++) {
        double z = TestSavedModels.B[j];
        for (int i = 0; i < 4; i++) {
          z += x[i] * TestSavedModels.W[i][j];
        }
        assertThat(got[j]).isCloseTo((float) z, within(1e-5f));
      }
      assertThatThrownBy(() -> model.metadata(Map.of(InferenceRequest.SIGNATURE, "nope")))
          .isInstanceOfSatisfying(ModelServingException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT))
          .hasMessageContaining("no signature 'nope'").hasMessageContaining("logits");
      assertThatThrownBy(() -> model.metadata(Map.of("tags", "gpu")))
          .isInstanceOf(ModelServingException.class)
          .hasMessageContaining("unknown request parameter 'tags'");
    } finally {
      model.close();
    }
  }

  @Test
  void anUnknownSignatureFailsTheLoadNamingTheSignatures() {
    assertThatThrownBy(() -> BACKEND.load(
            ModelSource.of(TestSavedModels.softmax()).withOption("signature", "nope")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'nope'").hasMessageContaining("serving_default")
        .hasMessageContaining("logits");
  }

  @Test
  void fp64AndInt64() throws Exception {
    Map<String, Tensor> out = MULTI.run(multiInputs(), Set.of("sum", "square"));
    assertThat(out).containsOnlyKeys("sum", "square");
    assertThat(out.get("sum").dataType()).isEqualTo(DataType.FP64);
    assertThat(out.get("sum").toDoubleArray()).containsExactly(1.5 + 3, -2.25 - 4, 1e10 + 3_000_000_000L, 0.125);
    assertThat(out.get("square").dataType()).isEqualTo(DataType.INT64);
    assertThat(out.get("square").toLongArray())
        .containsExactly(9, 16, 3_000_000_000L * 3_000_000_000L, 0);
  }

  @Test
  void bool() throws Exception {
    Tensor negated = MULTI.run(multiInputs(), Set.of("negated")).get("negated");
    assertThat(negated.dataType()).isEqualTo(DataType.BOOL);
    assertThat(negated.shape()).containsExactly(2, 2);
    assertThat(negated.toBooleanArray()).containsExactly(false, true, true, false);
  }

  @Test
  void uint8() throws Exception {
    Map<String, Tensor> out = MULTI.run(multiInputs(), Set.of("brightness", "doubled"));
    // pixels 10, 200, 255 | 0, 1, 128, read as unsigned
    assertThat(out.get("brightness").toIntArray()).containsExactly(10 + 200 + 255, 0 + 1 + 128);
    Tensor doubled = out.get("doubled");
    assertThat(doubled.dataType()).isEqualTo(DataType.UINT8);
    assertThat(doubled.toByteArray())
        .containsExactly((byte) 20, (byte) 400, (byte) 510, (byte) 0, (byte) 2, (byte) 256);
  }

  @Test
  void int32() throws Exception {
    Tensor next = MULTI.run(multiInputs(), Set.of("next")).get("next");
    assertThat(next.dataType()).isEqualTo(DataType.INT32);
    assertThat(next.toIntArray()).containsExactly(Integer.MIN_VALUE + 1, 42);
  }

  @Test
  void strings() throws Exception {
    String[] text = {"world", "", "héllo wörld"};
    Map<String, Tensor> out = STRINGS.run(Map.of("text", Tensor.of(text, 3)), Set.of());
    Tensor greeting = out.get("greeting");
    assertThat(greeting.dataType()).isEqualTo(DataType.STRING);
    assertThat(greeting.toStringArray())
        .containsExactly("hello, world", "hello, ", "hello, héllo wörld");
    assertThat(out.get("length").toIntArray()).containsExactly(
        5, 0, "héllo wörld".getBytes(StandardCharsets.UTF_8).length);
  }

  private static Map<String, Tensor> multiInputs() {
    return Map.of(
        "a", Tensor.of(new double[] {1.5, -2.25, 1e10, 0.125}, 2, 2),
        "b", Tensor.of(new long[] {3, -4, 3_000_000_000L, 0}, 2, 2),
        "flags", Tensor.of(new boolean[] {true, false, false, true}, 2, 2),
        "pixels", Tensor.of(DataType.UINT8, new byte[] {10, (byte) 200, (byte) 255, 0, 1, (byte) 128}, 2, 3),
        "ids", Tensor.of(new int[] {Integer.MIN_VALUE, 41}, 2));
  }

  @Test
  void aWrongTypeIsInvalidInputNamingTheInput() {
    assertThatThrownBy(() -> SOFTMAX.run(Map.of("x", Tensor.of(new double[4], 1, 4)), Set.of()))
        .isInstanceOf(ModelServingException.class)
        .satisfies(e -> assertThat(((ModelServingException) e).code()).isEqualTo(ErrorCode.INVALID_INPUT))
        .hasMessageContaining("input 'x'").hasMessageContaining("expected FP32, got FP64");
  }

  @Test
  void aWrongShapeIsInvalidInputWithExpectedAndReceived() {
    assertThatThrownBy(() -> SOFTMAX.run(Map.of("x", Tensor.of(new float[3], 1, 3)), Set.of()))
        .isInstanceOf(ModelServingException.class)
        .satisfies(e -> assertThat(((ModelServingException) e).code()).isEqualTo(ErrorCode.INVALID_INPUT))
        .hasMessageContaining("input 'x'").hasMessageContaining("[-1, 4]")
        .hasMessageContaining("[1, 3]");
  }

  @Test
  void missingUnknownAndRaggedInputsAreInvalidInput() {
    Map<String, Tensor> missing = new java.util.HashMap<>(multiInputs());
    missing.remove("flags");
    assertInvalid(() -> MULTI.run(missing, Set.of()), "missing input 'flags'");
    Map<String, Tensor> unknown = new java.util.HashMap<>(multiInputs());
    unknown.put("z", Tensor.of(new float[1], 1));
    assertInvalid(() -> MULTI.run(unknown, Set.of()), "unknown input 'z'");
    Map<String, Tensor> ragged = new java.util.HashMap<>(multiInputs());
    ragged.put("ids", Tensor.of(new int[3], 3));
    assertInvalid(() -> MULTI.run(ragged, Set.of()), "input 'ids': expected as many rows as input");
    assertInvalid(() -> MULTI.run(ragged, Set.of()), "(2), got 3");
    assertInvalid(() -> SOFTMAX.run(Map.of("x", Tensor.of(new float[0], 0, 4)), Set.of()),
        "input 'x': expected at least 1 row, got 0");
    assertInvalid(() -> SOFTMAX.run(Map.of("x", Tensor.of(ROWS, 3, 4)), Set.of("nope")),
        "unknown output 'nope'");
  }

  private static void assertInvalid(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String message) {
    assertThatThrownBy(call).isInstanceOf(ModelServingException.class)
        .satisfies(e -> assertThat(((ModelServingException) e).code()).isEqualTo(ErrorCode.INVALID_INPUT))
        .hasMessageContaining(message);
  }

  @Test
  void unknownOptionsAndBadValuesAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> BACKEND.load(
            ModelSource.of(TestSavedModels.softmax()).withOption("signatur", "x")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'signatur'");
    assertThatThrownBy(() -> TensorFlowBackend.builder().option("intra-op-threads", "0"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'intra-op-threads'");
    assertThatThrownBy(() -> TensorFlowBackend.builder().option("tags", "serve,,gpu"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'tags'");
  }

  @Test
  void aMissingTagFailsTheLoad() {
    assertThatThrownBy(() -> BACKEND.load(
            ModelSource.of(TestSavedModels.softmax()).withOption("tags", "train")))
        .hasMessageContaining("train");
  }

  @Test
  void threadOptionsAndMemoryBytesApply() throws Exception {
    TensorFlowBackend tf = TensorFlowBackend.builder().intraOpThreads(1).interOpThreads(1)
        .option("memory-bytes", "12345").build();
    LoadedModel m = tf.load(ModelSource.of(TestSavedModels.softmax()));
    try {
      assertThat(m.memoryBytes()).isEqualTo(12345);
      assertThat(m.run(Map.of("x", Tensor.of(ROWS, 3, 4)), Set.of()).get("probs").shape())
          .containsExactly(3, 3);
    } finally {
      m.close();
    }
    LoadedModel estimated = BACKEND.load(ModelSource.of(TestSavedModels.softmax()));
    try {
      assertThat(estimated.memoryBytes()).isGreaterThan(32L << 20);
    } finally {
      estimated.close();
    }
  }

  @Test
  void aClosedModelRefusesRunsAndClosesOnce() throws Exception {
    LoadedModel m = BACKEND.load(ModelSource.of(TestSavedModels.softmax()));
    m.close();
    m.close();
    assertThatThrownBy(() -> m.run(Map.of("x", Tensor.of(ROWS, 3, 4)), Set.of()))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theProviderRecognisesSavedModelFoldersOnly(@TempDir Path dir) throws Exception {
    TensorFlowBackendProvider provider = new TensorFlowBackendProvider();
    assertThat(provider.name()).isEqualTo("tensorflow");
    assertThat(provider.supports(ModelSource.of(TestSavedModels.softmax()))).isTrue();
    Files.writeString(dir.resolve("saved_model.pb"), "");
    assertThat(provider.supports(ModelSource.of(dir))).as("no variables/").isFalse();
    Files.createDirectory(dir.resolve("variables"));
    assertThat(provider.supports(ModelSource.of(dir))).isTrue();
    assertThat(provider.supports(ModelSource.of(dir.resolve("saved_model.pb")))).isFalse();
    assertThat(provider.backend()).isSameAs(provider.backend());
  }

  @Test
  void moduleInfoAndServicesFileAgree() {
    ModuleServices.assertConsistent(Path.of("target", "classes"));
    assertThat(List.of(new TensorFlowBackendProvider().name())).containsExactly("tensorflow");
  }
}
