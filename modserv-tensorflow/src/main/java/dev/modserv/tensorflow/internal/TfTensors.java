package dev.modserv.tensorflow.internal;

import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import java.util.Collection;
import org.jspecify.annotations.Nullable;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

/** Converts between modserv tensors and TensorFlow tensors, and makes INVALID_INPUT errors. */
public final class TfTensors {
  /** The modserv types this engine serves, in documentation order. */
  public static final String SERVED_TYPES = "FP32, FP64, INT32, INT64, UINT8, BOOL, STRING";

  private TfTensors() {}

  /** Returns the modserv type of a TensorFlow type, or null when this engine does not serve it. */
  public static @Nullable DataType dataType(org.tensorflow.proto.DataType type) {
    return switch (type) {
      case DT_FLOAT -> DataType.FP32;
      case DT_DOUBLE -> DataType.FP64;
      case DT_INT32 -> DataType.INT32;
      case DT_INT64 -> DataType.INT64;
      case DT_UINT8 -> DataType.UINT8;
      case DT_BOOL -> DataType.BOOL;
      case DT_STRING -> DataType.STRING;
      default -> null;
    };
  }

  /** Returns the spec of a signature's tensor: unknown rank when TensorFlow does not know it. */
  public static TensorSpec spec(String name, DataType type, Shape shape) {
    if (shape.isUnknown()) {
      return TensorSpec.ofUnknownRank(name, type);
    }
    long[] dims = shape.asArray();
    long[] out = new long[dims.length];
    for (int i = 0; i < dims.length; i++) {
      out[i] = dims[i] < 0 ? -1 : dims[i];
    }
    return TensorSpec.of(name, type, out);
  }

  /** Returns an INVALID_INPUT exception. */
  public static ModelServingException invalid(String message) {
    return new ModelServingException(ErrorCode.INVALID_INPUT, message);
  }

  /** Returns a new TensorFlow tensor holding a copy of {@code tensor}; the caller closes it. */
  public static org.tensorflow.Tensor toTf(Tensor tensor) {
    Shape shape = Shape.of(tensor.shape());
    return switch (tensor.dataType()) {
      case FP32 -> TFloat32.tensorOf(shape, DataBuffers.of(tensor.toFloatArray(), true, false));
      case FP64 -> TFloat64.tensorOf(shape, DataBuffers.of(tensor.toDoubleArray(), true, false));
      case INT32 -> TInt32.tensorOf(shape, DataBuffers.of(tensor.toIntArray(), true, false));
      case INT64 -> TInt64.tensorOf(shape, DataBuffers.of(tensor.toLongArray(), true, false));
      case UINT8 -> TUint8.tensorOf(shape, DataBuffers.of(tensor.toByteArray(), true, false));
      case BOOL -> TBool.tensorOf(shape, DataBuffers.of(tensor.toBooleanArray(), true, false));
      case STRING -> TString.tensorOf(shape, DataBuffers.ofObjects(tensor.toStringArray()));
      default ->
          throw invalid("type " + tensor.dataType() + " is not served by TensorFlow here; served: "
              + SERVED_TYPES);
    };
  }

  /**
   * Copies a TensorFlow tensor into a new modserv tensor; the TensorFlow tensor stays open (its
   * owner closes it).
   */
  public static Tensor fromTf(String name, org.tensorflow.Tensor t) {
    long[] shape = t.shape().asArray();
    long size = t.shape().size();
    if (size > Integer.MAX_VALUE) {
      throw new IllegalStateException("output '" + name + "' has " + size + " elements");
    }
    int n = (int) size;
    return switch (t) {
      case TFloat32 f -> {
        float[] a = new float[n];
        f.copyTo(DataBuffers.of(a, false, false));
        yield Tensor.of(a, shape);
      }
      case TFloat64 d -> {
        double[] a = new double[n];
        d.copyTo(DataBuffers.of(a, false, false));
        yield Tensor.of(a, shape);
      }
      case TInt32 i -> {
        int[] a = new int[n];
        i.copyTo(DataBuffers.of(a, false, false));
        yield Tensor.of(a, shape);
      }
      case TInt64 l -> {
        long[] a = new long[n];
        l.copyTo(DataBuffers.of(a, false, false));
        yield Tensor.of(a, shape);
      }
      case TUint8 u -> {
        byte[] a = new byte[n];
        u.copyTo(DataBuffers.of(a, false, false));
        yield Tensor.of(DataType.UINT8, a, shape);
      }
      case TBool b -> {
        boolean[] a = new boolean[n];
        b.copyTo(DataBuffers.of(a, false, false));
        yield Tensor.of(a, shape);
      }
      case TString s -> {
        String[] a = new String[n];
        s.copyTo(DataBuffers.ofObjects(a));
        yield Tensor.of(a, shape);
      }
      default ->
          throw new IllegalStateException("output '" + name + "' has type " + t.dataType()
              + ", not served here; served: " + SERVED_TYPES);
    };
  }

  /** Closes every tensor, going on past failures; rethrows the first. */
  public static void closeAll(Collection<? extends org.tensorflow.Tensor> tensors) {
    RuntimeException failure = null;
    for (org.tensorflow.Tensor t : tensors) {
      try {
        t.close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
