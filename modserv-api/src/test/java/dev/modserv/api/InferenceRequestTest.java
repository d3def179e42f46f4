package dev.modserv.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InferenceRequestTest {

  private static final Tensor ROWS_3 = Tensor.zeros(DataType.FP32, 3, 4);

  @Test
  void aRequestNeedsAnInput() {
    assertThatThrownBy(() -> InferenceRequest.builder("iris").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a request needs at least one input");
  }

  @Test
  void anInputMayBeGivenOnce() {
    InferenceRequest.Builder b = InferenceRequest.builder("iris").input("x", ROWS_3);
    assertThatThrownBy(() -> b.input("x", ROWS_3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("input 'x' was already given");
    assertThatThrownBy(() -> b.inputs(Map.of("x", ROWS_3)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("input 'x' was already given");
  }

  @Test
  void namesMustNotBeEmpty() {
    InferenceRequest.Builder b = InferenceRequest.builder("iris");
    assertThatThrownBy(() -> b.input("", ROWS_3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("input name must not be empty");
    assertThatThrownBy(() -> b.outputs("y", ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("output name must not be empty");
  }

  @Test
  void timeoutMustBePositive() {
    InferenceRequest.Builder b = InferenceRequest.builder("iris");
    assertThatThrownBy(() -> b.timeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("timeout must be positive: PT0S");
    assertThatThrownBy(() -> b.timeout(Duration.ofMillis(-5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("timeout must be positive: PT-0.005S");
  }

  @Test
  void priorityMustNotBeNegative() {
    assertThatThrownBy(() -> InferenceRequest.builder("iris").priority(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("priority must be >= 0: -1");
  }

  @Test
  void badModelReferencesAreRefusedAtOnce() {
    assertThatThrownBy(() -> InferenceRequest.builder("iris:0"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("model version must be >= 1: 0");
  }

  @Test
  void defaults() {
    InferenceRequest r = InferenceRequest.builder("iris").input("x", ROWS_3).build();
    assertThat(r.model()).isEqualTo(ModelRef.of("iris"));
    assertThat(r.outputs()).isEmpty();
    assertThat(r.timeout()).isEmpty();
    assertThat(r.priority()).isEqualTo(InferenceRequest.DEFAULT_PRIORITY).isZero();
    assertThat(r.id()).isEmpty();
  }

  @Test
  void everyOptionIsKept() {
    Tensor mask = Tensor.of(new boolean[] {true, false, true}, 3);
    InferenceRequest r =
        InferenceRequest.builder(ModelRef.of("iris", 2))
            .input("x", ROWS_3)
            .inputs(Map.of("mask", mask))
            .outputs("b", "a", "b")
            .timeout(Duration.ofMillis(250))
            .priority(3)
            .id("req-1")
            .build();
    assertThat(r.model()).isEqualTo(ModelRef.of("iris", 2));
    assertThat(r.inputs()).containsExactly(Map.entry("x", ROWS_3), Map.entry("mask", mask));
    assertThat(r.outputs()).containsExactly("b", "a");
    assertThat(r.timeout()).hasValue(Duration.ofMillis(250));
    assertThat(r.priority()).isEqualTo(3);
    assertThat(r.id()).hasValue("req-1");
    assertThat(r.rows()).isEqualTo(3);
    assertThat(r).hasToString("InferenceRequest[iris:2, inputs=[x, mask]]");
  }

  @Test
  void theRequestIsUnmodifiableAndIndependentOfItsBuilder() {
    InferenceRequest.Builder b = InferenceRequest.builder("iris").input("x", ROWS_3);
    InferenceRequest r = b.build();
    b.input("late", ROWS_3).outputs("y");
    assertThat(r.inputs()).containsOnlyKeys("x");
    assertThat(r.outputs()).isEmpty();
    assertThatThrownBy(() -> r.inputs().put("z", ROWS_3))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> r.outputs().add("z"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void rowsOfAScalarRequestIsOne() {
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    inputs.put("s", Tensor.scalar(1f));
    inputs.put("x", ROWS_3);
    assertThat(InferenceRequest.builder("m").inputs(inputs).build().rows()).isEqualTo(1);
  }

  @Test
  void nullTensorsAreRefused() {
    assertThatThrownBy(() -> InferenceRequest.builder("m").input("x", nullTensor()))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("x");
  }

  @SuppressWarnings("NullAway")
  private static Tensor nullTensor() {
    return null;
  }
}
