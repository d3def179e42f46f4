package dev.modserv.core.internal;

import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.List;

/** Stacking tensors along the first dimension, padding, and splitting them back, for batches. */
final class Tensors {
  private Tensors() {}

  /** Rows of a tensor: its first dimension, 1 for a scalar. */
  static long rows(Tensor t) {
    return t.rank() == 0 ? 1 : t.dim(0);
  }

  /** Elements per row. */
  static int rowSize(Tensor t) {
    long rows = rows(t);
    return rows == 0 ? 0 : (int) (t.elementCount() / rows);
  }

  /** Whether two tensors agree on every dimension but the first. */
  static boolean sameRowShape(Tensor a, Tensor b) {
    if (a.rank() != b.rank()) {
      return false;
    }
    for (int i = 1; i < a.rank(); i++) {
      if (a.dim(i) != b.dim(i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Stacks tensors of one type along the first dimension, padding every dimension after the
   * first to the largest among them with {@code pad} (used only when shapes differ).
   */
  static Tensor stack(List<Tensor> parts, double pad) {
    Tensor first = parts.get(0);
    DataType type = first.dataType();
    long[] rowShape = Arrays.copyOfRange(first.shape(), 1, first.rank());
    long rows = 0;
    boolean ragged = false;
    for (Tensor t : parts) {
      rows += rows(t);
      for (int i = 1; i < t.rank(); i++) {
        if (t.dim(i) != rowShape[i - 1]) {
          ragged = true;
          rowShape[i - 1] = Math.max(rowShape[i - 1], t.dim(i));
        }
      }
    }
    long[] shape = new long[first.rank()];
    shape[0] = rows;
    System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
    if (type == DataType.STRING) {
      if (ragged) {
        throw new IllegalArgumentException("STRING inputs cannot be padded");
      }
      String[] out = new String[Math.toIntExact(rows * product(rowShape))];
      int at = 0;
      for (Tensor t : parts) {
        String[] s = t.toStringArray();
        System.arraycopy(s, 0, out, at, s.length);
        at += s.length;
      }
      return Tensor.of(out, shape);
    }
    int width = type.byteSize();
    int rowElements = Math.toIntExact(product(rowShape));
    ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(rows * rowElements * width))
        .order(ByteOrder.nativeOrder());
    if (ragged && pad != 0) {
      fill(out, type, pad);
    }
    long rowAt = 0;
    for (Tensor t : parts) {
      ByteBuffer src = t.toByteBuffer();
      if (sameRowShapeAs(t, rowShape)) {
        out.put(Math.toIntExact(rowAt * rowElements * width), src, 0, src.remaining());
      } else {
        copyPadded(src, t.shape(), out, rowAt, rowShape, width);
      }
      rowAt += rows(t);
    }
    return Tensor.wrap(type, out.position(0), shape);
  }

  private static boolean sameRowShapeAs(Tensor t, long[] rowShape) {
    for (int i = 1; i < t.rank(); i++) {
      if (t.dim(i) != rowShape[i - 1]) {
        return false;
      }
    }
    return true;
  }

  /** Copies a tensor into the padded block, row-major, dimension by dimension. */
  private static void copyPadded(ByteBuffer src, long[] srcShape, ByteBuffer out, long rowAt,
      long[] rowShape, int width) {
    int rank = srcShape.length;
    long[] outShape = new long[rank];
    outShape[0] = srcShape[0];
    System.arraycopy(rowShape, 0, outShape, 1, rank - 1);
    long[] srcStrides = strides(srcShape);
    long[] outStrides = strides(outShape);
    long base = rowAt * outStrides[0];
    int innerBytes = Math.toIntExact(srcShape[rank - 1] * width);
    long outer = 1;
    for (int i = 0; i < rank - 1; i++) {
      outer *= srcShape[i];
    }
    long[] index = new long[Math.max(rank - 1, 0)];
    for (long k = 0; k < outer; k++) {
      long srcOffset = 0;
      long outOffset = base;
      for (int i = 0; i < rank - 1; i++) {
        srcOffset += index[i] * srcStrides[i];
        outOffset += index[i] * outStrides[i];
      }
      out.put(Math.toIntExact(outOffset * width), src, Math.toIntExact(srcOffset * width),
          innerBytes);
      for (int i = rank - 2; i >= 0; i--) {
        if (++index[i] < srcShape[i]) {
          break;
        }
        index[i] = 0;
      }
    }
  }

  private static long[] strides(long[] shape) {
    long[] strides = new long[shape.length];
    long s = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      strides[i] = s;
      s *= shape[i];
    }
    return strides;
  }

  private static long product(long[] dims) {
    long p = 1;
    for (long d : dims) {
      p *= d;
    }
    return p;
  }

  private static void fill(ByteBuffer out, DataType type, double value) {
    int n = out.capacity() / type.byteSize();
    ByteBuffer b = out.duplicate().order(out.order());
    switch (type) {
      case FP32 -> { FloatBuffer f = b.asFloatBuffer(); for (int i = 0; i < n; i++) { f.put(i, (float) value); } }
      case FP64 -> { DoubleBuffer f = b.asDoubleBuffer(); for (int i = 0; i < n; i++) { f.put(i, value); } }
      case INT32 -> { IntBuffer f = b.asIntBuffer(); for (int i = 0; i < n; i++) { f.put(i, (int) value); } }
      case INT64 -> { LongBuffer f = b.asLongBuffer(); for (int i = 0; i < n; i++) { f.put(i, (long) value); } }
      case INT16 -> { ShortBuffer f = b.asShortBuffer(); for (int i = 0; i < n; i++) { f.put(i, (short) value); } }
      case FP16 -> { ShortBuffer f = b.asShortBuffer(); for (int i = 0; i < n; i++) { f.put(i, Float.floatToFloat16((float) value)); } }
      case INT8, UINT8, BOOL -> { for (int i = 0; i < n; i++) { b.put(i, (byte) value); } }
      default -> throw new IllegalArgumentException("cannot pad " + type + " with " + value);
    }
  }

  /**
   * Returns rows {@code [from, from + count)} of {@code t}, without copying where the tensor's
   * storage allows; when {@code trimAxis >= 1}, that axis is also cut to {@code trimLength}.
   */
  static Tensor rows(Tensor t, long from, long count, int trimAxis, long trimLength) {
    long[] shape = t.shape();
    if (trimAxis >= 1 && trimAxis < shape.length && trimLength < shape[trimAxis]) {
      return trimmed(t, from, count, trimAxis, trimLength);
    }
    if (from == 0 && count == rows(t)) {
      return t;
    }
    int rowSize = rowSize(t);
    int start = Math.toIntExact(from * rowSize);
    int length = Math.toIntExact(count * rowSize);
    shape[0] = count;
    return switch (t.dataType()) {
      case FP32 -> Tensor.wrap(t.floatBuffer().slice(start, length), shape);
      case FP64 -> Tensor.wrap(t.doubleBuffer().slice(start, length), shape);
      case INT32 -> Tensor.wrap(t.intBuffer().slice(start, length), shape);
      case INT64 -> Tensor.wrap(t.longBuffer().slice(start, length), shape);
      case INT16, FP16, BF16 -> Tensor.wrap(t.dataType(), t.shortBuffer().slice(start, length), shape);
      case INT8, UINT8, BOOL -> Tensor.wrap(t.dataType(), t.byteBuffer().slice(start, length), shape);
      case STRING -> Tensor.of(Arrays.copyOfRange(t.toStringArray(), start, start + length), shape);
    };
  }

  private static Tensor trimmed(Tensor t, long from, long count, int axis, long length) {
    long[] shape = t.shape();
    long[] outShape = shape.clone();
    outShape[0] = count;
    outShape[axis] = length;
    long[] inStrides = strides(shape);
    long[] outStrides = strides(outShape);
    int width = t.dataType().isFixedSize() ? t.dataType().byteSize() : 0;
    if (width == 0) {
      throw new IllegalArgumentException("STRING outputs cannot be trimmed");
    }
    ByteBuffer src = t.toByteBuffer();
    ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(product(outShape) * width))
        .order(ByteOrder.nativeOrder());
    // Copy contiguous runs: everything after `axis` is contiguous in both layouts.
    int runBytes = Math.toIntExact(length * inStrides[axis] * width);
    long outer = 1;
    for (int i = 0; i < axis; i++) {
      outer *= outShape[i];
    }
    long[] index = new long[axis];
    for (long k = 0; k < outer; k++) {
      long in = from * inStrides[0];
      long o = 0;
      for (int i = 0; i < axis; i++) {
        in += index[i] * inStrides[i];
        o += index[i] * outStrides[i];
      }
      out.put(Math.toIntExact(o * width), src, Math.toIntExact(in * width), runBytes);
      for (int i = axis - 1; i >= 0; i--) {
        if (++index[i] < outShape[i]) {
          break;
        }
        index[i] = 0;
      }
    }
    return Tensor.wrap(t.dataType(), out.position(0), outShape);
  }
}
