package dev.modserv.api;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An immutable, typed and shaped block of data: what models take in and give back.
 *
 * <p>Two ways to build one:
 *
 * <ul>
 *   <li>from Java arrays ({@link #of(float[], long...)} and its overloads), which copy the array so
 *       that later writes to it cannot change the tensor;
 *   <li>from NIO buffers ({@link #wrap(FloatBuffer, long...)}, {@link #wrap(DataType, ByteBuffer,
 *       long...)} and their overloads), which keep a read-only view of the buffer without copying.
 *       A direct buffer reaches a native engine without a copy. The caller must not write to the
 *       buffer while the tensor is in use.
 * </ul>
 *
 * <p>Readers get read-only views ({@link #floatBuffer()}, ...), never the backing storage, or copies
 * ({@link #toFloatArray()}, ...). A shape has no dynamic ({@code -1}) dimensions: those belong to
 * {@link TensorSpec}. A scalar has the empty shape and one element.
 */
public final class Tensor {
  private final DataType dataType;
  private final long[] shape;
  private final int elementCount;
  // One of: a read-only typed buffer matching dataType, a read-only ByteBuffer of raw elements
  // (any fixed-size type), or a String[] for STRING. Buffers are positioned at 0.
  private final Object data;

  private Tensor(DataType dataType, long[] shape, int elementCount, Object data) {
    this.dataType = dataType;
    this.shape = shape;
    this.elementCount = elementCount;
    this.data = data;
  }

  // ---- factories from arrays (copying) ----

  /** Returns an FP32 tensor holding a copy of {@code data}. */
  public static Tensor of(float[] data, long... shape) {
    return typed(DataType.FP32, FloatBuffer.wrap(data.clone()), data.length, shape);
  }

  /** Returns an FP64 tensor holding a copy of {@code data}. */
  public static Tensor of(double[] data, long... shape) {
    return typed(DataType.FP64, DoubleBuffer.wrap(data.clone()), data.length, shape);
  }

  /** Returns an INT32 tensor holding a copy of {@code data}. */
  public static Tensor of(int[] data, long... shape) {
    return typed(DataType.INT32, IntBuffer.wrap(data.clone()), data.length, shape);
  }

  /** Returns an INT64 tensor holding a copy of {@code data}. */
  public static Tensor of(long[] data, long... shape) {
    return typed(DataType.INT64, LongBuffer.wrap(data.clone()), data.length, shape);
  }

  /** Returns a BOOL tensor holding {@code data} as one byte per element. */
  public static Tensor of(boolean[] data, long... shape) {
    byte[] bytes = new byte[data.length];
    for (int i = 0; i < data.length; i++) {
      bytes[i] = data[i] ? (byte) 1 : (byte) 0;
    }
    return typed(DataType.BOOL, ByteBuffer.wrap(bytes), bytes.length, shape);
  }

  /** Returns a STRING tensor holding a copy of {@code data}; no element may be null. */
  public static Tensor of(String[] data, long... shape) {
    String[] copy = data.clone();
    for (int i = 0; i < copy.length; i++) {
      if (copy[i] == null) {
        throw new NullPointerException("STRING tensor element " + i + " is null");
      }
    }
    long[] s = checkShape(DataType.STRING, shape, copy.length);
    return new Tensor(DataType.STRING, s, copy.length, copy);
  }

  /**
   * Returns a tensor of a one-byte type ({@link DataType#INT8}, {@link DataType#UINT8} or {@link
   * DataType#BOOL}) holding a copy of {@code data}.
   */
  public static Tensor of(DataType dataType, byte[] data, long... shape) {
    requireByteSize(dataType, 1, "byte[]");
    return typed(dataType, ByteBuffer.wrap(data.clone()), data.length, shape);
  }

  /**
   * Returns a tensor of a two-byte type ({@link DataType#INT16}, or the raw bits of {@link
   * DataType#FP16} or {@link DataType#BF16}) holding a copy of {@code data}.
   */
  public static Tensor of(DataType dataType, short[] data, long... shape) {
    requireByteSize(dataType, 2, "short[]");
    return typed(dataType, ShortBuffer.wrap(data.clone()), data.length, shape);
  }

  /** Returns a scalar FP32 tensor (shape {@code []}). */
  public static Tensor scalar(float value) {
    return of(new float[] {value});
  }

  /** Returns a scalar INT64 tensor (shape {@code []}). */
  public static Tensor scalar(long value) {
    return of(new long[] {value});
  }

  /** Returns a tensor of zeros (empty strings for {@link DataType#STRING}, false for BOOL). */
  public static Tensor zeros(DataType dataType, long... shape) {
    int count = elementCount(dataType, shape);
    if (dataType == DataType.STRING) {
      String[] empty = new String[count];
      Arrays.fill(empty, "");
      return new Tensor(dataType, shape.clone(), count, empty);
    }
    ByteBuffer bytes = ByteBuffer.allocate(byteLength(dataType, count)).order(java.nio.ByteOrder.nativeOrder());
    return new Tensor(dataType, shape.clone(), count, bytes.asReadOnlyBuffer().order(bytes.order()));
  }

  // ---- factories from buffers (no copy) ----

  /** Returns an FP32 tensor over the remaining elements of {@code data}, without copying. */
  public static Tensor wrap(FloatBuffer data, long... shape) {
    return typed(DataType.FP32, data.slice().asReadOnlyBuffer(), data.remaining(), shape);
  }

  /** Returns an FP64 tensor over the remaining elements of {@code data}, without copying. */
  public static Tensor wrap(DoubleBuffer data, long... shape) {
    return typed(DataType.FP64, data.slice().asReadOnlyBuffer(), data.remaining(), shape);
  }

  /** Returns an INT32 tensor over the remaining elements of {@code data}, without copying. */
  public static Tensor wrap(IntBuffer data, long... shape) {
    return typed(DataType.INT32, data.slice().asReadOnlyBuffer(), data.remaining(), shape);
  }

  /** Returns an INT64 tensor over the remaining elements of {@code data}, without copying. */
  public static Tensor wrap(LongBuffer data, long... shape) {
    return typed(DataType.INT64, data.slice().asReadOnlyBuffer(), data.remaining(), shape);
  }

  /**
   * Returns a tensor of a two-byte type over the remaining elements of {@code data}, without
   * copying.
   */
  public static Tensor wrap(DataType dataType, ShortBuffer data, long... shape) {
    requireByteSize(dataType, 2, "ShortBuffer");
    return typed(dataType, data.slice().asReadOnlyBuffer(), data.remaining(), shape);
  }

  /**
   * Returns a tensor over the remaining raw bytes of {@code data}, read in the buffer's byte order,
   * without copying. The byte count must be exactly the element count times the type's size.
   *
   * @throws IllegalArgumentException for {@link DataType#STRING}, or when the byte count does not
   *     match the shape
   */
  public static Tensor wrap(DataType dataType, ByteBuffer data, long... shape) {
    if (!dataType.isFixedSize()) {
      throw new IllegalArgumentException(
          "a STRING tensor cannot be built from raw bytes; use Tensor.of(String[], shape)");
    }
    int count = elementCount(dataType, shape);
    long expectedBytes = (long) count * dataType.byteSize();
    if (data.remaining() != expectedBytes) {
      throw new IllegalArgumentException(
          dataType + " tensor of shape " + Arrays.toString(shape) + " needs " + expectedBytes
              + " bytes (" + count + " elements), got " + data.remaining() + " bytes");
    }
    ByteBuffer view = data.slice().order(data.order()).asReadOnlyBuffer().order(data.order());
    return new Tensor(dataType, shape.clone(), count, view);
  }

  private static Tensor typed(DataType dataType, Buffer buffer, int length, long[] shape) {
    long[] s = checkShape(dataType, shape, length);
    Buffer readOnly = buffer.isReadOnly() ? buffer : readOnly(buffer);
    return new Tensor(dataType, s, length, readOnly);
  }

  private static Buffer readOnly(Buffer buffer) {
    return switch (buffer) {
      case FloatBuffer b -> b.asReadOnlyBuffer();
      case DoubleBuffer b -> b.asReadOnlyBuffer();
      case IntBuffer b -> b.asReadOnlyBuffer();
      case LongBuffer b -> b.asReadOnlyBuffer();
      case ShortBuffer b -> b.asReadOnlyBuffer();
      case ByteBuffer b -> b.asReadOnlyBuffer().order(b.order());
      default -> throw new IllegalArgumentException("unsupported buffer " + buffer.getClass());
    };
  }

  private static void requireByteSize(DataType dataType, int size, String what) {
    if (dataType.byteSize() != size) {
      throw new IllegalArgumentException(
          "a " + what + " holds " + size + "-byte elements; " + dataType + " is not one of them");
    }
  }

  private static long[] checkShape(DataType dataType, long[] shape, int elements) {
    int expected = elementCount(dataType, shape);
    if (expected != elements) {
      throw new IllegalArgumentException(
          dataType + " tensor of shape " + Arrays.toString(shape) + " needs " + expected
              + " elements, got " + elements);
    }
    return shape.clone();
  }

  private static int elementCount(DataType dataType, long[] shape) {
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        throw new IllegalArgumentException(
            "dimension " + i + " of shape " + Arrays.toString(shape)
                + " is negative; a tensor's shape is concrete (only a TensorSpec has -1)");
      }
      try {
        count = Math.multiplyExact(count, shape[i]);
      } catch (ArithmeticException e) {
        count = Long.MAX_VALUE;
      }
    }
    long bytes = dataType.isFixedSize() ? count * dataType.byteSize() : count;
    if (count > Integer.MAX_VALUE || bytes > Integer.MAX_VALUE || bytes < 0) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " is too large: a tensor holds at most "
              + Integer.MAX_VALUE + " bytes");
    }
    return (int) count;
  }

  private static int byteLength(DataType dataType, int count) {
    return count * dataType.byteSize();
  }

  // ---- shape ----

  /** Returns the element type. */
  public DataType dataType() {
    return dataType;
  }

  /** Returns a copy of the shape. */
  public long[] shape() {
    return shape.clone();
  }

  /** Returns the number of dimensions (0 for a scalar). */
  public int rank() {
    return shape.length;
  }

  /** Returns dimension {@code index} of the shape. */
  public long dim(int index) {
    return shape[index];
  }

  /** Returns the number of elements: the product of the shape. */
  public int elementCount() {
    return elementCount;
  }

  /** Returns whether the data lives in a direct (off-heap) buffer. */
  public boolean isDirect() {
    return data instanceof Buffer b && b.isDirect();
  }

  // ---- read-only views (no copy) ----

  /** Returns a read-only view of an FP32 tensor's elements. */
  public FloatBuffer floatBuffer() {
    requireType(DataType.FP32);
    return data instanceof ByteBuffer b ? raw(b).asFloatBuffer() : ((FloatBuffer) data).duplicate();
  }

  /** Returns a read-only view of an FP64 tensor's elements. */
  public DoubleBuffer doubleBuffer() {
    requireType(DataType.FP64);
    return data instanceof ByteBuffer b ? raw(b).asDoubleBuffer() : ((DoubleBuffer) data).duplicate();
  }

  /** Returns a read-only view of an INT32 tensor's elements. */
  public IntBuffer intBuffer() {
    requireType(DataType.INT32);
    return data instanceof ByteBuffer b ? raw(b).asIntBuffer() : ((IntBuffer) data).duplicate();
  }

  /** Returns a read-only view of an INT64 tensor's elements. */
  public LongBuffer longBuffer() {
    requireType(DataType.INT64);
    return data instanceof ByteBuffer b ? raw(b).asLongBuffer() : ((LongBuffer) data).duplicate();
  }

  /** Returns a read-only view of an INT16, FP16 or BF16 tensor's elements (raw bits for floats). */
  public ShortBuffer shortBuffer() {
    if (dataType.byteSize() != 2) {
      throw wrongType("INT16, FP16 or BF16");
    }
    return data instanceof ByteBuffer b ? raw(b).asShortBuffer() : ((ShortBuffer) data).duplicate();
  }

  /**
   * Returns a read-only view of the raw bytes of a tensor built from bytes: any one-byte type, or
   * any fixed-size type built with {@link #wrap(DataType, ByteBuffer, long...)}.
   *
   * @throws IllegalStateException when the tensor is held as typed elements (build a byte view with
   *     {@link #toByteBuffer()} instead, which copies)
   */
  public ByteBuffer byteBuffer() {
    if (data instanceof ByteBuffer b) {
      return raw(b);
    }
    throw new IllegalStateException(
        dataType + " tensor is held as typed elements, not bytes; use toByteBuffer() for a copy");
  }

  /** Returns whether {@link #byteBuffer()} gives a view without copying. */
  public boolean hasByteBuffer() {
    return data instanceof ByteBuffer;
  }

  /** Returns a STRING tensor's elements as an unmodifiable list. */
  public List<String> strings() {
    requireType(DataType.STRING);
    return List.of((String[]) data);
  }

  private static ByteBuffer raw(ByteBuffer b) {
    return b.duplicate().order(b.order());
  }

  // ---- copies ----

  /** Returns a copy of an FP32 tensor's elements. */
  public float[] toFloatArray() {
    float[] out = new float[elementCount];
    floatBuffer().get(out);
    return out;
  }

  /** Returns a copy of an FP64 tensor's elements. */
  public double[] toDoubleArray() {
    double[] out = new double[elementCount];
    doubleBuffer().get(out);
    return out;
  }

  /** Returns a copy of an INT32 tensor's elements. */
  public int[] toIntArray() {
    int[] out = new int[elementCount];
    intBuffer().get(out);
    return out;
  }

  /** Returns a copy of an INT64 tensor's elements. */
  public long[] toLongArray() {
    long[] out = new long[elementCount];
    longBuffer().get(out);
    return out;
  }

  /** Returns a copy of an INT16, FP16 or BF16 tensor's elements. */
  public short[] toShortArray() {
    short[] out = new short[elementCount];
    shortBuffer().get(out);
    return out;
  }

  /** Returns a copy of a one-byte-type tensor's elements (INT8, UINT8, BOOL). */
  public byte[] toByteArray() {
    if (dataType.byteSize() != 1) {
      throw wrongType("INT8, UINT8 or BOOL");
    }
    byte[] out = new byte[elementCount];
    byteBuffer().get(out);
    return out;
  }

  /** Returns a copy of a BOOL tensor's elements. */
  public boolean[] toBooleanArray() {
    requireType(DataType.BOOL);
    ByteBuffer bytes = byteBuffer();
    boolean[] out = new boolean[elementCount];
    for (int i = 0; i < elementCount; i++) {
      out[i] = bytes.get(i) != 0;
    }
    return out;
  }

  /** Returns a copy of a STRING tensor's elements. */
  public String[] toStringArray() {
    requireType(DataType.STRING);
    return ((String[]) data).clone();
  }

  /**
   * Returns the elements of a fixed-size tensor as bytes in native byte order; a view when the
   * tensor is held as bytes in that order, else a copy.
   */
  public ByteBuffer toByteBuffer() {
    if (!dataType.isFixedSize()) {
      throw new IllegalStateException("a STRING tensor has no fixed-size byte form");
    }
    if (data instanceof ByteBuffer b && b.order() == java.nio.ByteOrder.nativeOrder()) {
      return raw(b);
    }
    ByteBuffer out =
        ByteBuffer.allocate(byteLength(dataType, elementCount)).order(java.nio.ByteOrder.nativeOrder());
    switch (dataType) {
      case FP32 -> out.asFloatBuffer().put(floatBuffer());
      case FP64 -> out.asDoubleBuffer().put(doubleBuffer());
      case INT32 -> out.asIntBuffer().put(intBuffer());
      case INT64 -> out.asLongBuffer().put(longBuffer());
      case INT16, FP16, BF16 -> out.asShortBuffer().put(shortBuffer());
      default -> out.put(byteBuffer()).flip();
    }
    return out.asReadOnlyBuffer().order(out.order());
  }

  private void requireType(DataType expected) {
    if (dataType != expected) {
      throw wrongType(expected.name());
    }
  }

  private IllegalStateException wrongType(String expected) {
    return new IllegalStateException("tensor is " + dataType + ", not " + expected);
  }

  // ---- value semantics ----

  @Override
  public boolean equals(@Nullable Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Tensor other)
        || dataType != other.dataType
        || !Arrays.equals(shape, other.shape)) {
      return false;
    }
    return contentView().equals(other.contentView());
  }

  @Override
  public int hashCode() {
    return 31 * (31 * dataType.hashCode() + Arrays.hashCode(shape)) + contentView().hashCode();
  }

  private Object contentView() {
    return switch (dataType) {
      case FP32 -> floatBuffer();
      case FP64 -> doubleBuffer();
      case INT32 -> intBuffer();
      case INT64 -> longBuffer();
      case INT16, FP16, BF16 -> shortBuffer();
      case INT8, UINT8 -> byteBuffer();
      case BOOL -> {
        // Any non-zero byte is true (DataType.BOOL): compare and hash the truth values, so that
        // bytes {2} and booleans {true} are equal.
        ByteBuffer raw = byteBuffer();
        byte[] truth = new byte[elementCount];
        for (int i = 0; i < elementCount; i++) {
          truth[i] = raw.get(i) != 0 ? (byte) 1 : (byte) 0;
        }
        yield ByteBuffer.wrap(truth);
      }
      case STRING -> strings();
    };
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Tensor[").append(dataType).append(' ');
    sb.append(Arrays.toString(shape)).append(' ');
    int shown = Math.min(elementCount, 8);
    sb.append('[');
    Object view = contentView();
    for (int i = 0; i < shown; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(
          switch (view) {
            case FloatBuffer b -> String.valueOf(b.get(i));
            case DoubleBuffer b -> String.valueOf(b.get(i));
            case IntBuffer b -> String.valueOf(b.get(i));
            case LongBuffer b -> String.valueOf(b.get(i));
            case ShortBuffer b -> String.valueOf(b.get(i));
            case ByteBuffer b ->
                String.valueOf(
                    dataType == DataType.UINT8 ? Byte.toUnsignedInt(b.get(i)) : b.get(i));
            case List<?> l -> '"' + String.valueOf(l.get(i)) + '"';
            default -> "?";
          });
    }
    if (elementCount > shown) {
      sb.append(", ...");
    }
    return sb.append("]]").toString();
  }
}
