package dev.modserv.core.internal.processing;

import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;

/** Tensor elements as doubles and back. */
final class Values {
  private Values() {}

  /** Whether {@code type} is a number type. */
  static boolean numeric(DataType type) {
    return type != DataType.BOOL && type != DataType.STRING;
  }

  /** The elements of a numeric tensor as doubles (a copy). */
  static double[] doubles(Tensor t) {
    int n = t.elementCount();
    double[] d = new double[n];
    switch (t.dataType()) {
      case FP64 -> t.doubleBuffer().get(d);
      case FP32 -> {
        var b = t.floatBuffer();
        for (int i = 0; i < n; i++) {
          d[i] = b.get(i);
        }
      }
      case FP16 -> {
        var b = t.shortBuffer();
        for (int i = 0; i < n; i++) {
          d[i] = Float.float16ToFloat(b.get(i));
        }
      }
      case BF16 -> {
        var b = t.shortBuffer();
        for (int i = 0; i < n; i++) {
          d[i] = Float.intBitsToFloat((b.get(i) & 0xffff) << 16);
        }
      }
      case INT64 -> {
        var b = t.longBuffer();
        for (int i = 0; i < n; i++) {
          d[i] = b.get(i);
        }
      }
      case INT32 -> {
        var b = t.intBuffer();
        for (int i = 0; i < n; i++) {
          d[i] = b.get(i);
        }
      }
      case INT16 -> {
        var b = t.shortBuffer();
        for (int i = 0; i < n; i++) {
          d[i] = b.get(i);
        }
      }
      case INT8 -> {
        var b = t.byteBuffer();
        for (int i = 0; i < n; i++) {
          d[i] = b.get(i);
        }
      }
      case UINT8 -> {
        var b = t.byteBuffer();
        for (int i = 0; i < n; i++) {
          d[i] = Byte.toUnsignedInt(b.get(i));
        }
      }
      case BOOL, STRING -> throw new IllegalArgumentException(t.dataType() + " is not numeric");
    }
    return d;
  }

  static float[] floats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }

  /** {@code x} as the tensor type of {@code like} (FP32 or FP64). */
  static Tensor floating(DataType like, double[] x, long[] shape) {
    return like == DataType.FP64 ? Tensor.of(x, shape) : Tensor.of(floats(x), shape);
  }
}
