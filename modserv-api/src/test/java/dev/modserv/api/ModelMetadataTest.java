package dev.modserv.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelMetadataTest {

  private static final TensorSpec X = TensorSpec.of("x", DataType.FP32, -1, 4);
  private static final TensorSpec Y = TensorSpec.of("y", DataType.FP32, -1, 3);

  @Test
  void batchableIsInferredWhenEveryFirstDimensionIsDynamic() {
    ModelMetadata m =
        ModelMetadata.builder("fake")
            .input(X)
            .input(TensorSpec.of("mask", DataType.BOOL, -1))
            .output(Y)
            .build();
    assertThat(m.capabilities()).containsExactlyInAnyOrder(Capability.TENSOR, Capability.BATCHABLE);
    assertThat(m.has(Capability.BATCHABLE)).isTrue();
    assertThat(m.has(Capability.GENERATIVE)).isFalse();
  }

  @Test
  void notBatchableWhenOneOutputHasAFixedFirstDimension() {
    ModelMetadata m =
        ModelMetadata.builder("fake")
            .input(X)
            .output(Y)
            .output(TensorSpec.of("z", DataType.FP32, 1, 3))
            .build();
    assertThat(m.capabilities()).containsExactly(Capability.TENSOR);
  }

  @Test
  void notBatchableWhenOneInputHasAFixedFirstDimension() {
    ModelMetadata m =
        ModelMetadata.builder("fake")
            .input(X)
            .input(TensorSpec.of("w", DataType.FP32, 4, -1))
            .output(Y)
            .build();
    assertThat(m.capabilities()).containsExactly(Capability.TENSOR);
  }

  @Test
  void notBatchableForScalarsUnknownRanksOrNoInputs() {
    assertThat(
            ModelMetadata.builder("e")
                .input(TensorSpec.of("s", DataType.FP32))
                .output(Y)
                .build()
                .capabilities())
        .containsExactly(Capability.TENSOR);
    assertThat(
            ModelMetadata.builder("e")
                .input(TensorSpec.ofUnknownRank("u", DataType.FP32))
                .output(Y)
                .build()
                .capabilities())
        .containsExactly(Capability.TENSOR);
    assertThat(ModelMetadata.builder("e").output(Y).build().capabilities())
        .containsExactly(Capability.TENSOR);
  }

  @Test
  void explicitCapabilitiesAreKeptAsGiven() {
    ModelMetadata m =
        ModelMetadata.builder("llama")
            .input(X)
            .output(Y)
            .capabilities(Capability.GENERATIVE)
            .build();
    assertThat(m.capabilities()).containsExactly(Capability.GENERATIVE);
  }

  @Test
  void duplicateInputNamesAreRefused() {
    ModelMetadata.Builder b =
        ModelMetadata.builder("e").input(X).input(TensorSpec.of("x", DataType.INT64, 1));
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duplicate input name 'x'");
  }

  @Test
  void duplicateOutputNamesAreRefused() {
    assertThatThrownBy(
            () ->
                new ModelMetadata(
                    "e", List.of(X), List.of(Y, Y), EnumSet.of(Capability.TENSOR), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duplicate output name 'y'");
  }

  @Test
  void anInputAndAnOutputMayShareAName() {
    TensorSpec sameName = TensorSpec.of("x", DataType.FP32, -1, 4);
    ModelMetadata m = ModelMetadata.builder("e").input(X).output(sameName).build();
    assertThat(m.input("x")).hasValue(X);
    assertThat(m.output("x")).hasValue(sameName);
  }

  @Test
  void constructorChecksEngineAndCapabilities() {
    assertThatThrownBy(
            () ->
                new ModelMetadata(
                    "", List.of(), List.of(), EnumSet.of(Capability.TENSOR), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("engine name must not be empty");
    assertThatThrownBy(
            () ->
                new ModelMetadata(
                    "e", List.of(), List.of(), EnumSet.noneOf(Capability.class), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a model has at least one capability");
  }

  @Test
  void argumentsAreCopied() {
    List<TensorSpec> inputs = new ArrayList<>(List.of(X));
    ModelMetadata m =
        new ModelMetadata("e", inputs, List.of(Y), EnumSet.of(Capability.TENSOR), Map.of("k", "v"));
    inputs.add(TensorSpec.of("late", DataType.FP32, 1));
    assertThat(m.inputs()).containsExactly(X);
    assertThatThrownBy(() -> m.inputs().add(Y)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> m.capabilities().add(Capability.EMBEDDING))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(m.properties()).containsExactly(Map.entry("k", "v"));
  }

  @Test
  void lookupsByName() {
    ModelMetadata m =
        ModelMetadata.builder("onnxruntime").input(X).output(Y).property("opset", "17").build();
    assertThat(m.engine()).isEqualTo("onnxruntime");
    assertThat(m.input("x")).hasValue(X);
    assertThat(m.input("y")).isEmpty();
    assertThat(m.output("y")).hasValue(Y);
    assertThat(m.output("x")).isEmpty();
    assertThat(m.properties()).containsEntry("opset", "17");
  }

  @Test
  void requireAcceptsNamesTheInputWhatWasExpectedAndWhatCame() {
    ModelMetadata m = ModelMetadata.builder("fake")
        .input(X).input(TensorSpec.of("mask", DataType.BOOL, -1)).output(Y).build();
    Tensor x = Tensor.of(new float[4], 1, 4);
    Tensor mask = Tensor.of(new boolean[1], 1);
    m.requireAccepts(Map.of("x", x, "mask", mask), java.util.Set.of("y"));

    assertInvalid(() -> m.requireAccepts(Map.of("x", x, "mask", mask, "z", x), java.util.Set.of()),
        "unknown input 'z'; the model takes [x, mask]");
    assertInvalid(() -> m.requireAccepts(Map.of("x", x), java.util.Set.of()),
        "missing input 'mask'; the model takes [x, mask]");
    assertInvalid(() -> m.requireAccepts(
            Map.of("x", Tensor.of(new float[3], 1, 3), "mask", mask), java.util.Set.of()),
        "input 'x': expected shape [-1, 4], got [1, 3]");
    assertInvalid(() -> m.requireAccepts(
            Map.of("x", Tensor.of(new long[4], 1, 4), "mask", mask), java.util.Set.of()),
        "input 'x': expected FP32, got INT64");
    assertInvalid(() -> m.requireAccepts(
            Map.of("x", Tensor.of(new float[0], 0, 4), "mask", mask), java.util.Set.of()),
        "input 'x': expected at least 1 row, got 0 (shape [0, 4])");
    assertInvalid(() -> m.requireAccepts(
            Map.of("x", x, "mask", Tensor.of(new boolean[2], 2)), java.util.Set.of()),
        "input 'mask': expected as many rows as input 'x' (1), got 2");
    assertInvalid(() -> m.requireAccepts(Map.of("x", x, "mask", mask), java.util.Set.of("q")),
        "unknown output 'q'; the model gives [y]");
  }

  @Test
  void aSpecOfUnknownRankAcceptsAnyShapeOfItsType() {
    TensorSpec any = TensorSpec.ofUnknownRank("t", DataType.INT64);
    any.requireAccepts(Tensor.of(new long[6], 2, 3));
    any.requireAccepts(Tensor.of(new long[1], 1));
    assertInvalid(() -> any.requireAccepts(Tensor.of(new float[1], 1)),
        "input 't': expected INT64, got FP32");
    assertInvalid(() -> X.requireAccepts(Tensor.of(new float[4], 4)),
        "input 'x': expected shape [-1, 4], got [4]");
  }

  private static void assertInvalid(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String message) {
    assertThatThrownBy(call).isInstanceOfSatisfying(ModelServingException.class, e -> {
      assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT);
      assertThat(e.getMessage()).isEqualTo(message);
    });
  }
}
