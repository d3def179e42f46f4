package dev.modserv.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class TensorTest {

  private static final ByteOrder OTHER_ORDER =
      ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN
          ? ByteOrder.LITTLE_ENDIAN
          : ByteOrder.BIG_ENDIAN;

  /** Heap and direct byte buffers, in native and non-native order. */
  static Stream<Arguments> byteBufferKinds() {
    return Stream.of(
        Arguments.of("heap, native order", false, ByteOrder.nativeOrder()),
        Arguments.of("heap, other order", false, OTHER_ORDER),
        Arguments.of("direct, native order", true, ByteOrder.nativeOrder()),
        Arguments.of("direct, other order", true, OTHER_ORDER));
  }

  private static ByteBuffer allocate(boolean direct, int bytes, ByteOrder order) {
    return (direct ? ByteBuffer.allocateDirect(bytes) : ByteBuffer.allocate(bytes)).order(order);
  }

  @Nested
  @DisplayName("from arrays")
  class FromArrays {
    @Test
    void fp32() {
      Tensor t = Tensor.of(new float[] {1f, -2.5f, 3f, 4f, 5f, 6f}, 2, 3);
      assertThat(t.dataType()).isEqualTo(DataType.FP32);
      assertThat(t.shape()).containsExactly(2, 3);
      assertThat(t.rank()).isEqualTo(2);
      assertThat(t.dim(1)).isEqualTo(3);
      assertThat(t.elementCount()).isEqualTo(6);
      assertThat(t.toFloatArray()).containsExactly(1f, -2.5f, 3f, 4f, 5f, 6f);
      assertThat(t.floatBuffer().get(1)).isEqualTo(-2.5f);
      assertThat(t.isDirect()).isFalse();
      assertThat(t.hasByteBuffer()).isFalse();
    }

    @Test
    void fp64() {
      Tensor t = Tensor.of(new double[] {1.5, 2.25}, 2);
      assertThat(t.dataType()).isEqualTo(DataType.FP64);
      assertThat(t.toDoubleArray()).containsExactly(1.5, 2.25);
      assertThat(t.doubleBuffer().get(1)).isEqualTo(2.25);
    }

    @Test
    void int32() {
      Tensor t = Tensor.of(new int[] {1, 2, 3, 4}, 2, 2);
      assertThat(t.dataType()).isEqualTo(DataType.INT32);
      assertThat(t.toIntArray()).containsExactly(1, 2, 3, 4);
    }

    @Test
    void int64() {
      Tensor t = Tensor.of(new long[] {Long.MIN_VALUE, 0, Long.MAX_VALUE}, 3);
      assertThat(t.dataType()).isEqualTo(DataType.INT64);
      assertThat(t.toLongArray()).containsExactly(Long.MIN_VALUE, 0, Long.MAX_VALUE);
    }

    @Test
    void boolFromBooleans() {
      Tensor t = Tensor.of(new boolean[] {true, false, true}, 3);
      assertThat(t.dataType()).isEqualTo(DataType.BOOL);
      assertThat(t.toBooleanArray()).containsExactly(true, false, true);
      assertThat(t.toByteArray()).containsExactly(1, 0, 1);
    }

    @Test
    void string() {
      Tensor t = Tensor.of(new String[] {"a", "", "ç"}, 1, 3);
      assertThat(t.dataType()).isEqualTo(DataType.STRING);
      assertThat(t.strings()).containsExactly("a", "", "ç");
      assertThat(t.toStringArray()).containsExactly("a", "", "ç");
    }

    @Test
    void stringRefusesNullElements() {
      assertThatThrownBy(() -> Tensor.of(new String[] {"a", null}, 2))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("STRING tensor element 1 is null");
    }

    @ParameterizedTest
    @EnumSource(
        value = DataType.class,
        names = {"INT8", "UINT8", "BOOL"})
    void oneByteTypes(DataType type) {
      Tensor t = Tensor.of(type, new byte[] {0, 1, (byte) 0xff}, 3);
      assertThat(t.dataType()).isEqualTo(type);
      assertThat(t.toByteArray()).containsExactly(0, 1, (byte) 0xff);
      assertThat(Byte.toUnsignedInt(t.byteBuffer().get(2))).isEqualTo(255);
      assertThat(t.hasByteBuffer()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(
        value = DataType.class,
        names = {"INT16", "FP16", "BF16"})
    void twoByteTypes(DataType type) {
      Tensor t = Tensor.of(type, new short[] {1, -1, 0x3c00}, 3);
      assertThat(t.dataType()).isEqualTo(type);
      assertThat(t.toShortArray()).containsExactly((short) 1, (short) -1, (short) 0x3c00);
      assertThat(t.shortBuffer().get(2)).isEqualTo((short) 0x3c00);
    }

    @ParameterizedTest
    @EnumSource(
        value = DataType.class,
        names = {"INT8", "UINT8", "BOOL"},
        mode = EnumSource.Mode.EXCLUDE)
    void byteArrayRefusesOtherTypes(DataType type) {
      assertThatThrownBy(() -> Tensor.of(type, new byte[] {1}, 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("a byte[] holds 1-byte elements; " + type + " is not one of them");
    }

    @ParameterizedTest
    @EnumSource(
        value = DataType.class,
        names = {"INT16", "FP16", "BF16"},
        mode = EnumSource.Mode.EXCLUDE)
    void shortArrayRefusesOtherTypes(DataType type) {
      assertThatThrownBy(() -> Tensor.of(type, new short[] {1}, 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("a short[] holds 2-byte elements; " + type + " is not one of them");
    }

    @Test
    void scalars() {
      Tensor f = Tensor.scalar(2.5f);
      assertThat(f.rank()).isZero();
      assertThat(f.shape()).isEmpty();
      assertThat(f.elementCount()).isEqualTo(1);
      assertThat(f.toFloatArray()).containsExactly(2.5f);
      Tensor l = Tensor.scalar(7L);
      assertThat(l.dataType()).isEqualTo(DataType.INT64);
      assertThat(l.rank()).isZero();
      assertThat(l.toLongArray()).containsExactly(7L);
    }

    @Test
    void emptyTensorWithAZeroDimension() {
      Tensor t = Tensor.of(new float[0], 0, 4);
      assertThat(t.elementCount()).isZero();
      assertThat(t.shape()).containsExactly(0, 4);
      assertThat(t.toFloatArray()).isEmpty();
    }
  }

  @Nested
  @DisplayName("array factories copy")
  class ArrayFactoriesCopy {
    @Test
    void laterWritesToTheArrayDoNotShow() {
      float[] f = {1f, 2f};
      double[] d = {1, 2};
      int[] i = {1, 2};
      long[] l = {1, 2};
      boolean[] z = {true, false};
      String[] s = {"a", "b"};
      byte[] b = {1, 2};
      short[] h = {1, 2};
      Tensor tf = Tensor.of(f, 2);
      Tensor td = Tensor.of(d, 2);
      Tensor ti = Tensor.of(i, 2);
      Tensor tl = Tensor.of(l, 2);
      Tensor tz = Tensor.of(z, 2);
      Tensor ts = Tensor.of(s, 2);
      Tensor tb = Tensor.of(DataType.INT8, b, 2);
      Tensor th = Tensor.of(DataType.INT16, h, 2);

      f[0] = 9;
      d[0] = 9;
      i[0] = 9;
      l[0] = 9;
      z[0] = false;
      s[0] = "z";
      b[0] = 9;
      h[0] = 9;

      assertThat(tf.toFloatArray()).containsExactly(1f, 2f);
      assertThat(td.toDoubleArray()).containsExactly(1, 2);
      assertThat(ti.toIntArray()).containsExactly(1, 2);
      assertThat(tl.toLongArray()).containsExactly(1, 2);
      assertThat(tz.toBooleanArray()).containsExactly(true, false);
      assertThat(ts.strings()).containsExactly("a", "b");
      assertThat(tb.toByteArray()).containsExactly(1, 2);
      assertThat(th.toShortArray()).containsExactly((short) 1, (short) 2);
    }

    @Test
    void copiesOutAreIndependent() {
      Tensor t = Tensor.of(new float[] {1f, 2f}, 2);
      float[] out = t.toFloatArray();
      out[0] = 42f;
      assertThat(t.toFloatArray()).containsExactly(1f, 2f);
      String[] strings = Tensor.of(new String[] {"a"}, 1).toStringArray();
      strings[0] = "changed";
      long[] shape = t.shape();
      shape[0] = 99;
      assertThat(t.shape()).containsExactly(2);
    }

    @Test
    void shapeArgumentIsCopied() {
      long[] shape = {2, 1};
      Tensor t = Tensor.of(new float[] {1f, 2f}, shape);
      shape[0] = 1;
      shape[1] = 2;
      assertThat(t.shape()).containsExactly(2, 1);
    }
  }

  @Nested
  @DisplayName("wrapping buffers")
  class Wrapping {
    @Test
    void heapFloatBuffer() {
      FloatBuffer buffer = FloatBuffer.wrap(new float[] {9f, 1f, 2f, 3f, 4f});
      buffer.position(1);
      Tensor t = Tensor.wrap(buffer, 2, 2);
      assertThat(t.toFloatArray()).containsExactly(1f, 2f, 3f, 4f);
      assertThat(t.isDirect()).isFalse();
      assertThat(buffer.position()).as("the caller's position is left alone").isEqualTo(1);
    }

    @Test
    void directFloatBufferStaysDirect() {
      FloatBuffer buffer =
          ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asFloatBuffer();
      buffer.put(new float[] {1f, 2f, 3f, 4f}).flip();
      Tensor t = Tensor.wrap(buffer, 4);
      assertThat(t.isDirect()).isTrue();
      assertThat(t.floatBuffer().isDirect()).isTrue();
      assertThat(t.toFloatArray()).containsExactly(1f, 2f, 3f, 4f);
    }

    @Test
    void doubleIntLongAndShortBuffers() {
      assertThat(Tensor.wrap(DoubleBuffer.wrap(new double[] {1, 2}), 2).toDoubleArray())
          .containsExactly(1, 2);
      assertThat(Tensor.wrap(IntBuffer.wrap(new int[] {1, 2}), 1, 2).toIntArray())
          .containsExactly(1, 2);
      assertThat(Tensor.wrap(LongBuffer.wrap(new long[] {1, 2}), 2, 1).toLongArray())
          .containsExactly(1, 2);
      Tensor h = Tensor.wrap(DataType.BF16, ShortBuffer.wrap(new short[] {1, 2}), 2);
      assertThat(h.dataType()).isEqualTo(DataType.BF16);
      assertThat(h.toShortArray()).containsExactly((short) 1, (short) 2);

      DoubleBuffer direct =
          ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asDoubleBuffer();
      direct.put(0, 5.0).put(1, 6.0);
      Tensor d = Tensor.wrap(direct, 2);
      assertThat(d.isDirect()).isTrue();
      assertThat(d.toDoubleArray()).containsExactly(5.0, 6.0);
    }

    @Test
    void shortBufferRefusesOtherTypes() {
      assertThatThrownBy(() -> Tensor.wrap(DataType.INT32, ShortBuffer.wrap(new short[] {1}), 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("a ShortBuffer holds 2-byte elements; INT32 is not one of them");
    }

    @Test
    void wrapDoesNotCopy() {
      float[] backing = {1f, 2f};
      Tensor t = Tensor.wrap(FloatBuffer.wrap(backing), 2);
      backing[1] = 20f;
      assertThat(t.toFloatArray()).containsExactly(1f, 20f);

      ByteBuffer direct = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
      Tensor raw = Tensor.wrap(DataType.INT32, direct, 2);
      direct.putInt(4, 77);
      assertThat(raw.toIntArray()).containsExactly(0, 77);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.modserv.api.TensorTest#byteBufferKinds")
    void rawBytesOfEveryFixedSizeType(String kind, boolean direct, ByteOrder order) {
      for (DataType type : DataType.values()) {
        if (!type.isFixedSize()) {
          continue;
        }
        ByteBuffer bytes = allocate(direct, 3 * type.byteSize(), order);
        Tensor expected = writeOneTwoThree(type, bytes);
        Tensor t = Tensor.wrap(type, bytes, 3);
        assertThat(t.dataType()).as(kind + " " + type).isEqualTo(type);
        assertThat(t.isDirect()).as(kind + " " + type).isEqualTo(direct);
        assertThat(t.hasByteBuffer()).isTrue();
        assertThat(t.byteBuffer().order()).isEqualTo(order);
        assertThat(t).as(kind + " " + type).isEqualTo(expected);
        assertThat(t.hashCode()).as(kind + " " + type).isEqualTo(expected.hashCode());
      }
    }

    @Test
    void rawBytesMustMatchTheShape() {
      assertThatThrownBy(() -> Tensor.wrap(DataType.FP32, ByteBuffer.allocate(10), 2, 2))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("FP32 tensor of shape [2, 2] needs 16 bytes (4 elements), got 10 bytes");
    }

    @Test
    void rawBytesRefuseString() {
      assertThatThrownBy(() -> Tensor.wrap(DataType.STRING, ByteBuffer.allocate(1), 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "a STRING tensor cannot be built from raw bytes; use Tensor.of(String[], shape)");
    }

    @Test
    void rawBytesStartAtThePosition() {
      ByteBuffer bytes = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
      bytes.putInt(0, 99).putInt(4, 1).putInt(8, 2).position(4);
      Tensor t = Tensor.wrap(DataType.INT32, bytes, 2);
      assertThat(t.toIntArray()).containsExactly(1, 2);
      assertThat(bytes.position()).isEqualTo(4);
    }
  }

  /** Writes 1, 2, 3 into {@code bytes} as {@code type} and returns the same values as a tensor. */
  private static Tensor writeOneTwoThree(DataType type, ByteBuffer bytes) {
    for (int i = 0; i < 3; i++) {
      int v = i + 1;
      switch (type) {
        case FP32 -> bytes.putFloat(i * 4, v);
        case FP64 -> bytes.putDouble(i * 8, v);
        case INT32 -> bytes.putInt(i * 4, v);
        case INT64 -> bytes.putLong(i * 8, v);
        case INT16, FP16, BF16 -> bytes.putShort(i * 2, (short) v);
        case INT8, UINT8, BOOL -> bytes.put(i, (byte) v);
        case STRING -> throw new AssertionError();
      }
    }
    return switch (type) {
      case FP32 -> Tensor.of(new float[] {1, 2, 3}, 3);
      case FP64 -> Tensor.of(new double[] {1, 2, 3}, 3);
      case INT32 -> Tensor.of(new int[] {1, 2, 3}, 3);
      case INT64 -> Tensor.of(new long[] {1, 2, 3}, 3);
      case INT16, FP16, BF16 -> Tensor.of(type, new short[] {1, 2, 3}, 3);
      case INT8, UINT8, BOOL -> Tensor.of(type, new byte[] {1, 2, 3}, 3);
      case STRING -> throw new AssertionError();
    };
  }

  @Nested
  @DisplayName("views are read-only")
  class ReadOnlyViews {
    @Test
    void typedViewsRefuseWrites() {
      Tensor f = Tensor.of(new float[] {1f}, 1);
      assertThat(f.floatBuffer().isReadOnly()).isTrue();
      assertThatThrownBy(() -> f.floatBuffer().put(0, 5f))
          .isInstanceOf(ReadOnlyBufferException.class);
      assertThat(f.toFloatArray()).containsExactly(1f);

      assertThat(Tensor.of(new double[] {1}, 1).doubleBuffer().isReadOnly()).isTrue();
      assertThat(Tensor.of(new int[] {1}, 1).intBuffer().isReadOnly()).isTrue();
      assertThat(Tensor.of(new long[] {1}, 1).longBuffer().isReadOnly()).isTrue();
      assertThat(Tensor.of(DataType.FP16, new short[] {1}, 1).shortBuffer().isReadOnly()).isTrue();
    }

    @Test
    void viewsOfWrappedBuffersRefuseWrites() {
      FloatBuffer writable = FloatBuffer.wrap(new float[] {1f, 2f});
      Tensor t = Tensor.wrap(writable, 2);
      assertThat(t.floatBuffer().isReadOnly()).isTrue();
      assertThatThrownBy(() -> t.floatBuffer().put(0, 5f))
          .isInstanceOf(ReadOnlyBufferException.class);

      ByteBuffer bytes = ByteBuffer.allocateDirect(8);
      Tensor raw = Tensor.wrap(DataType.FP32, bytes, 2);
      assertThat(raw.byteBuffer().isReadOnly()).isTrue();
      assertThat(raw.floatBuffer().isReadOnly()).isTrue();
      assertThatThrownBy(() -> raw.byteBuffer().put(0, (byte) 1))
          .isInstanceOf(ReadOnlyBufferException.class);
      assertThatThrownBy(() -> raw.floatBuffer().put(0, 1f))
          .isInstanceOf(ReadOnlyBufferException.class);
    }

    @Test
    void byteViewsRefuseWrites() {
      Tensor t = Tensor.of(new boolean[] {true}, 1);
      assertThat(t.byteBuffer().isReadOnly()).isTrue();
      assertThatThrownBy(() -> t.byteBuffer().put(0, (byte) 0))
          .isInstanceOf(ReadOnlyBufferException.class);
      assertThat(t.toByteBuffer().isReadOnly()).isTrue();
    }

    @Test
    void stringsAreUnmodifiable() {
      Tensor t = Tensor.of(new String[] {"a"}, 1);
      assertThatThrownBy(() -> t.strings().set(0, "b"))
          .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void eachViewHasItsOwnPosition() {
      Tensor t = Tensor.of(new float[] {1f, 2f}, 2);
      FloatBuffer first = t.floatBuffer();
      first.get();
      assertThat(first.position()).isEqualTo(1);
      assertThat(t.floatBuffer().position()).isZero();
      assertThat(t.toFloatArray()).containsExactly(1f, 2f);
    }
  }

  @Nested
  @DisplayName("shape checks")
  class ShapeChecks {
    @Test
    void elementCountMustMatchTheShape() {
      assertThatThrownBy(() -> Tensor.of(new float[5], 2, 3))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("FP32 tensor of shape [2, 3] needs 6 elements, got 5");
      assertThatThrownBy(() -> Tensor.of(new long[2]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("INT64 tensor of shape [] needs 1 elements, got 2");
      assertThatThrownBy(() -> Tensor.of(new String[] {"a"}, 2))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("STRING tensor of shape [2] needs 2 elements, got 1");
      assertThatThrownBy(() -> Tensor.wrap(IntBuffer.allocate(3), 4))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("INT32 tensor of shape [4] needs 4 elements, got 3");
    }

    @Test
    void negativeDimensionsAreRefused() {
      String message =
          "dimension 1 of shape [2, -1] is negative; a tensor's shape is concrete (only a"
              + " TensorSpec has -1)";
      assertThatThrownBy(() -> Tensor.of(new float[2], 2, -1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(message);
      assertThatThrownBy(() -> Tensor.zeros(DataType.FP32, 2, -1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(message);
      assertThatThrownBy(() -> Tensor.wrap(DataType.INT8, ByteBuffer.allocate(2), 2, -1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(message);
    }

    @Test
    void tooLargeShapesAreRefused() {
      assertThatThrownBy(() -> Tensor.zeros(DataType.FP32, 1L << 30, 2))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "shape [1073741824, 2] is too large: a tensor holds at most 2147483647 bytes");
      assertThatThrownBy(() -> Tensor.zeros(DataType.INT8, Long.MAX_VALUE, 2))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("shape [9223372036854775807, 2] is too large");
    }

    @Test
    void readingAsTheWrongTypeIsRefused() {
      Tensor f = Tensor.of(new float[] {1f}, 1);
      assertThatThrownBy(f::toIntArray)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("tensor is FP32, not INT32");
      assertThatThrownBy(f::shortBuffer)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("tensor is FP32, not INT16, FP16 or BF16");
      assertThatThrownBy(f::toByteArray)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("tensor is FP32, not INT8, UINT8 or BOOL");
      assertThatThrownBy(f::byteBuffer)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage(
              "FP32 tensor is held as typed elements, not bytes; use toByteBuffer() for a copy");
      assertThatThrownBy(f::strings)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("tensor is FP32, not STRING");
      Tensor b = Tensor.of(DataType.INT8, new byte[] {1}, 1);
      assertThatThrownBy(b::toBooleanArray)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("tensor is INT8, not BOOL");
    }
  }

  @Nested
  @DisplayName("equals and hashCode")
  class Equality {
    @Test
    void sameValuesAcrossRepresentationsAreEqual() {
      float[] values = {1f, -2f, 3.5f, 0f};
      ByteBuffer nativeDirect = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
      ByteBuffer otherHeap = ByteBuffer.allocate(16).order(OTHER_ORDER);
      for (int i = 0; i < values.length; i++) {
        nativeDirect.putFloat(i * 4, values[i]);
        otherHeap.putFloat(i * 4, values[i]);
      }
      FloatBuffer directFloats =
          ByteBuffer.allocateDirect(16).order(OTHER_ORDER).asFloatBuffer().put(values).flip();

      List<Tensor> all = new ArrayList<>();
      all.add(Tensor.of(values, 2, 2));
      all.add(Tensor.wrap(FloatBuffer.wrap(values.clone()), 2, 2));
      all.add(Tensor.wrap(directFloats, 2, 2));
      all.add(Tensor.wrap(DataType.FP32, nativeDirect, 2, 2));
      all.add(Tensor.wrap(DataType.FP32, otherHeap, 2, 2));
      for (Tensor a : all) {
        for (Tensor b : all) {
          assertThat(a).isEqualTo(b);
          assertThat(a.hashCode()).isEqualTo(b.hashCode());
        }
      }
    }

    @Test
    void zerosEqualAnArrayOfZeros() {
      assertThat(Tensor.zeros(DataType.FP32, 2, 3)).isEqualTo(Tensor.of(new float[6], 2, 3));
      assertThat(Tensor.zeros(DataType.FP32, 2, 3).hashCode())
          .isEqualTo(Tensor.of(new float[6], 2, 3).hashCode());
      assertThat(Tensor.zeros(DataType.INT64, 4)).isEqualTo(Tensor.of(new long[4], 4));
      assertThat(Tensor.zeros(DataType.BOOL, 2)).isEqualTo(Tensor.of(new boolean[2], 2));
    }

    @Test
    void differencesAreNotEqual() {
      Tensor base = Tensor.of(new float[] {1f, 2f, 3f, 4f}, 2, 2);
      assertThat(base).isNotEqualTo(Tensor.of(new float[] {1f, 2f, 3f, 4f}, 4));
      assertThat(base).isNotEqualTo(Tensor.of(new float[] {1f, 2f, 3f, 5f}, 2, 2));
      assertThat(base).isNotEqualTo(Tensor.of(new int[] {1, 2, 3, 4}, 2, 2));
      assertThat(Tensor.of(DataType.INT8, new byte[] {1}, 1))
          .isNotEqualTo(Tensor.of(DataType.UINT8, new byte[] {1}, 1));
      assertThat(Tensor.of(DataType.FP16, new short[] {1}, 1))
          .isNotEqualTo(Tensor.of(DataType.BF16, new short[] {1}, 1));
      assertThat(base).isNotEqualTo("not a tensor");
      assertThat(base).isNotEqualTo(null);
    }

    @Test
    void stringsCompareByValue() {
      Tensor a = Tensor.of(new String[] {"x", "y"}, 2);
      Tensor b = Tensor.of(new String[] {new String("x"), "y"}, 2);
      assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
      assertThat(a).isNotEqualTo(Tensor.of(new String[] {"x", "z"}, 2));
    }

    /** BOOL reads any non-zero byte as true (DataType.BOOL): equality follows truth values. */
    @Test
    void boolTensorsCompareByTruthValue() {
      Tensor fromBooleans = Tensor.of(new boolean[] {true, false, true}, 3);
      Tensor fromBytes = Tensor.of(DataType.BOOL, new byte[] {2, 0, (byte) 0xff}, 3);
      assertThat(fromBytes.toBooleanArray()).containsExactly(true, false, true);
      assertThat(fromBytes).isEqualTo(fromBooleans).hasSameHashCodeAs(fromBooleans);
      assertThat(fromBytes).isNotEqualTo(Tensor.of(new boolean[] {true, true, true}, 3));
      assertThat(Tensor.of(DataType.INT8, new byte[] {2}, 1))
          .as("other one-byte types still compare bytes")
          .isNotEqualTo(Tensor.of(DataType.INT8, new byte[] {1}, 1));
    }

    @Test
    void nanEqualsNan() {
      Tensor a = Tensor.of(new float[] {Float.NaN}, 1);
      Tensor b = Tensor.wrap(FloatBuffer.wrap(new float[] {Float.NaN}), 1);
      assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    }

    @Test
    void toStringShowsTypeShapeAndFirstElements() {
      assertThat(Tensor.of(new float[] {1f, 2f}, 1, 2))
          .hasToString("Tensor[FP32 [1, 2] [1.0, 2.0]]");
      assertThat(Tensor.of(new String[] {"a"}, 1)).hasToString("Tensor[STRING [1] [\"a\"]]");
      assertThat(Tensor.of(DataType.UINT8, new byte[] {(byte) 0xff, 1}, 2))
          .hasToString("Tensor[UINT8 [2] [255, 1]]");
      assertThat(Tensor.of(DataType.INT8, new byte[] {(byte) 0xff, 1}, 2))
          .hasToString("Tensor[INT8 [2] [-1, 1]]");
      assertThat(Tensor.zeros(DataType.INT32, 10).toString())
          .isEqualTo("Tensor[INT32 [10] [0, 0, 0, 0, 0, 0, 0, 0, ...]]");
    }
  }

  @Nested
  @DisplayName("zeros")
  class Zeros {
    @ParameterizedTest
    @EnumSource(DataType.class)
    void everyTypeHasZeros(DataType type) {
      Tensor t = Tensor.zeros(type, 2, 3);
      assertThat(t.dataType()).isEqualTo(type);
      assertThat(t.shape()).containsExactly(2, 3);
      assertThat(t.elementCount()).isEqualTo(6);
      switch (type) {
        case FP32 -> assertThat(t.toFloatArray()).containsOnly(0f).hasSize(6);
        case FP64 -> assertThat(t.toDoubleArray()).containsOnly(0d).hasSize(6);
        case INT32 -> assertThat(t.toIntArray()).containsOnly(0).hasSize(6);
        case INT64 -> assertThat(t.toLongArray()).containsOnly(0L).hasSize(6);
        case INT16, FP16, BF16 -> assertThat(t.toShortArray()).containsOnly((short) 0).hasSize(6);
        case INT8, UINT8 -> assertThat(t.toByteArray()).containsOnly((byte) 0).hasSize(6);
        case BOOL -> assertThat(t.toBooleanArray()).containsOnly(false).hasSize(6);
        case STRING -> assertThat(t.strings()).containsOnly("").hasSize(6);
      }
      if (type.isFixedSize()) {
        assertThat(t.toByteBuffer().remaining()).isEqualTo(6 * type.byteSize());
      }
    }

    @Test
    void scalarZero() {
      Tensor t = Tensor.zeros(DataType.FP64);
      assertThat(t.rank()).isZero();
      assertThat(t.toDoubleArray()).containsExactly(0d);
    }

    @Test
    void zerosAreReadOnly() {
      Tensor t = Tensor.zeros(DataType.INT32, 2);
      assertThatThrownBy(() -> t.intBuffer().put(0, 1)).isInstanceOf(ReadOnlyBufferException.class);
      assertThatThrownBy(() -> t.byteBuffer().put(0, (byte) 1))
          .isInstanceOf(ReadOnlyBufferException.class);
    }
  }

  @Nested
  @DisplayName("toByteBuffer")
  class ToByteBuffer {
    @Test
    void typedElementsBecomeNativeOrderBytes() {
      Tensor t = Tensor.of(new int[] {1, 0x01020304}, 2);
      ByteBuffer bytes = t.toByteBuffer();
      assertThat(bytes.order()).isEqualTo(ByteOrder.nativeOrder());
      assertThat(bytes.position()).isZero();
      assertThat(bytes.remaining()).isEqualTo(8);
      assertThat(bytes.isReadOnly()).isTrue();
      assertThat(bytes.getInt(0)).isEqualTo(1);
      assertThat(bytes.getInt(4)).isEqualTo(0x01020304);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.modserv.api.TensorTest#byteBufferKinds")
    void everyFixedSizeTypeRoundTrips(String kind, boolean direct, ByteOrder order) {
      for (DataType type : DataType.values()) {
        if (!type.isFixedSize()) {
          continue;
        }
        ByteBuffer source = allocate(direct, 3 * type.byteSize(), order);
        Tensor expected = writeOneTwoThree(type, source);
        for (Tensor t : List.of(expected, Tensor.wrap(type, source, 3))) {
          ByteBuffer bytes = t.toByteBuffer();
          assertThat(bytes.order()).as(kind + " " + type).isEqualTo(ByteOrder.nativeOrder());
          assertThat(bytes.remaining()).as(kind + " " + type).isEqualTo(3 * type.byteSize());
          assertThat(Tensor.wrap(type, bytes, 3)).as(kind + " " + type).isEqualTo(expected);
        }
      }
    }

    @Test
    void nativeOrderBytesAreAViewNotACopy() {
      ByteBuffer direct = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
      Tensor t = Tensor.wrap(DataType.INT64, direct, 1);
      ByteBuffer bytes = t.toByteBuffer();
      assertThat(bytes.isDirect()).isTrue();
      direct.putLong(0, 5L);
      assertThat(bytes.getLong(0)).isEqualTo(5L);
    }

    @Test
    void oneByteTypesCopyFromAnyOrder() {
      Tensor t = Tensor.of(DataType.UINT8, new byte[] {7, 8, 9}, 3);
      ByteBuffer bytes = t.toByteBuffer();
      assertThat(bytes.position()).isZero();
      assertThat(bytes.remaining()).isEqualTo(3);
      assertThat(bytes.get(0)).isEqualTo((byte) 7);
      assertThat(bytes.get(2)).isEqualTo((byte) 9);
    }

    @Test
    void stringHasNoByteForm() {
      Tensor t = Tensor.of(new String[] {"a"}, 1);
      assertThatThrownBy(t::toByteBuffer)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("a STRING tensor has no fixed-size byte form");
    }
  }
}
