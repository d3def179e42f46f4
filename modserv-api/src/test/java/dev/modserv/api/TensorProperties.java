package dev.modserv.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Tensors built from random arrays and random shapes give back what went in. */
class TensorProperties {

  /** An array and a shape whose product equals its length. */
  @SuppressWarnings("ArrayRecordComponent")
  record Shaped<A>(A data, long[] shape) {
    @Override
    public String toString() {
      String values = Arrays.deepToString(new Object[] {data});
      return "Shaped[shape=" + Arrays.toString(shape) + ", data=" + values + "]";
    }
  }

  private static Arbitrary<long[]> shapes() {
    return Arbitraries.longs()
        .between(0, 5)
        .list()
        .ofMaxSize(4)
        .map(dims -> dims.stream().mapToLong(Long::longValue).toArray());
  }

  private static int product(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return Math.toIntExact(n);
  }

  @Provide
  Arbitrary<Shaped<float[]>> shapedFloats() {
    Arbitrary<Float> element =
        Arbitraries.floats()
            .withSpecialValue(Float.NaN)
            .withSpecialValue(Float.POSITIVE_INFINITY)
            .withSpecialValue(-0.0f)
            .withSpecialValue(Float.MIN_VALUE);
    return shapes()
        .flatMap(
            shape ->
                element
                    .array(float[].class)
                    .ofSize(product(shape))
                    .map(data -> new Shaped<>(data, shape)));
  }

  @Provide
  Arbitrary<Shaped<long[]>> shapedLongs() {
    return shapes()
        .flatMap(
            shape ->
                Arbitraries.longs()
                    .array(long[].class)
                    .ofSize(product(shape))
                    .map(data -> new Shaped<>(data, shape)));
  }

  @Property
  void floatArraysRoundTrip(@ForAll("shapedFloats") Shaped<float[]> in) {
    Tensor t = Tensor.of(in.data(), in.shape());
    assertThat(t.dataType()).isEqualTo(DataType.FP32);
    assertThat(t.shape()).isEqualTo(in.shape());
    assertThat(t.rank()).isEqualTo(in.shape().length);
    assertThat(t.elementCount()).isEqualTo(in.data().length);
    // Arrays.equals compares float bits (NaN equals NaN, -0.0 differs from 0.0).
    assertThat(Arrays.equals(t.toFloatArray(), in.data())).isTrue();
  }

  @Property
  void floatTensorsEqualAcrossRepresentations(@ForAll("shapedFloats") Shaped<float[]> in) {
    float[] data = in.data();
    ByteBuffer little = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer big = ByteBuffer.allocateDirect(data.length * 4).order(ByteOrder.BIG_ENDIAN);
    little.asFloatBuffer().put(data);
    big.asFloatBuffer().put(data);
    Tensor fromArray = Tensor.of(data, in.shape());
    List<Tensor> others =
        List.of(
            Tensor.wrap(FloatBuffer.wrap(data.clone()), in.shape()),
            Tensor.wrap(DataType.FP32, little, in.shape()),
            Tensor.wrap(DataType.FP32, big, in.shape()),
            Tensor.wrap(DataType.FP32, fromArray.toByteBuffer(), in.shape()));
    for (Tensor other : others) {
      assertThat(other).isEqualTo(fromArray);
      assertThat(other.hashCode()).isEqualTo(fromArray.hashCode());
      assertThat(Arrays.equals(other.toFloatArray(), data)).isTrue();
    }
  }

  @Property
  void longArraysRoundTrip(@ForAll("shapedLongs") Shaped<long[]> in) {
    Tensor t = Tensor.of(in.data(), in.shape());
    assertThat(t.dataType()).isEqualTo(DataType.INT64);
    assertThat(t.shape()).isEqualTo(in.shape());
    assertThat(t.elementCount()).isEqualTo(in.data().length);
    assertThat(t.toLongArray()).isEqualTo(in.data());

    Tensor wrapped = Tensor.wrap(LongBuffer.wrap(in.data().clone()), in.shape());
    Tensor raw = Tensor.wrap(DataType.INT64, t.toByteBuffer(), in.shape());
    assertThat(wrapped).isEqualTo(t).hasSameHashCodeAs(t);
    assertThat(raw).isEqualTo(t).hasSameHashCodeAs(t);
    assertThat(raw.toLongArray()).isEqualTo(in.data());
  }

  @Property
  void aShapeWhoseProductDiffersIsRefused(@ForAll("shapedLongs") Shaped<long[]> in) {
    long[] more = Arrays.copyOf(in.data(), in.data().length + 1);
    assertThatThrownBy(() -> Tensor.of(more, in.shape()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "INT64 tensor of shape "
                + Arrays.toString(in.shape())
                + " needs "
                + in.data().length
                + " elements, got "
                + more.length);
  }
}
