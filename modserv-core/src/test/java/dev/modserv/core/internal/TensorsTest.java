package dev.modserv.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorsTest {

  @Test
  void stacksAlongTheFirstDimension() {
    Tensor a = Tensor.of(new float[] {1, 2}, 1, 2);
    Tensor b = Tensor.of(new float[] {3, 4, 5, 6}, 2, 2);
    Tensor s = Tensors.stack(List.of(a, b), 0);
    assertThat(s.shape()).containsExactly(3, 2);
    assertThat(s.toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6);
  }

  @Test
  void stacksEveryFixedSizeTypeAndStrings() {
    assertThat(Tensors.stack(List.of(Tensor.of(new long[] {1}, 1), Tensor.of(new long[] {2}, 1)),
        0).toLongArray()).containsExactly(1, 2);
    assertThat(Tensors.stack(List.of(Tensor.of(new boolean[] {true}, 1),
        Tensor.of(new boolean[] {false}, 1)), 0).toBooleanArray()).containsExactly(true, false);
    assertThat(Tensors.stack(List.of(Tensor.of(new String[] {"a"}, 1),
        Tensor.of(new String[] {"b", "c"}, 2)), 0).toStringArray()).containsExactly("a", "b", "c");
    assertThat(Tensors.stack(List.of(Tensor.of(DataType.FP16, new short[] {7}, 1),
        Tensor.of(DataType.FP16, new short[] {9}, 1)), 0).toShortArray()).containsExactly(7, 9);
  }

  @Test
  void padsRaggedInnerDimensionsWithTheValue() {
    Tensor a = Tensor.of(new long[] {1, 2}, 1, 2);
    Tensor b = Tensor.of(new long[] {3, 4, 5, 6, 7, 8}, 2, 3);
    Tensor s = Tensors.stack(List.of(a, b), -1);
    assertThat(s.shape()).containsExactly(3, 3);
    assertThat(s.toLongArray()).containsExactly(1, 2, -1, 3, 4, 5, 6, 7, 8);
  }

  @Test
  void slicesRowsWithoutCopyingAndTrimsAnAxis() {
    Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 3, 2, 2);
    Tensor middle = Tensors.rows(t, 1, 1, -1, -1);
    assertThat(middle.shape()).containsExactly(1, 2, 2);
    assertThat(middle.toFloatArray()).containsExactly(5, 6, 7, 8);
    Tensor trimmed = Tensors.rows(t, 1, 2, 1, 1);
    assertThat(trimmed.shape()).containsExactly(2, 1, 2);
    assertThat(trimmed.toFloatArray()).containsExactly(5, 6, 9, 10);
    assertThat(Tensors.rows(t, 0, 3, -1, -1)).isSameAs(t);
  }
}
