package dev.modserv.onnx.internal;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Converts between modserv tensors and ONNX Runtime tensors. */
public final class Tensors {
  private Tensors() {}

  /** Returns the modserv type of an ONNX Runtime element type, or null when modserv has none. */
  public static @Nullable DataType dataType(OnnxJavaType type) {
    return switch (type) {
      case FLOAT -> DataType.FP32;
      case DOUBLE -> DataType.FP64;
      case FLOAT16 -> DataType.FP16;
      case BFLOAT16 -> DataType.BF16;
      case INT8 -> DataType.INT8;
      case INT16 -> DataType.INT16;
      case INT32 -> DataType.INT32;
      case INT64 -> DataType.INT64;
      case UINT8 -> DataType.UINT8;
      case BOOL -> DataType.BOOL;
      case STRING -> DataType.STRING;
      default -> null;
    };
  }

  static OnnxJavaType ortType(DataType type) {
    return switch (type) {
      case FP32 -> OnnxJavaType.FLOAT;
      case FP64 -> OnnxJavaType.DOUBLE;
      case FP16 -> OnnxJavaType.FLOAT16;
      case BF16 -> OnnxJavaType.BFLOAT16;
      case INT8 -> OnnxJavaType.INT8;
      case INT16 -> OnnxJavaType.INT16;
      case INT32 -> OnnxJavaType.INT32;
      case INT64 -> OnnxJavaType.INT64;
      case UINT8 -> OnnxJavaType.UINT8;
      case BOOL -> OnnxJavaType.BOOL;
      case STRING -> OnnxJavaType.STRING;
    };
  }

  /**
   * Returns the spec of one session input or output, or null when it is not a tensor or its
   * element type has no modserv type; {@code why} then receives the reason.
   */
  public static @Nullable TensorSpec spec(String name, NodeInfo node, StringBuilder why) {
    if (!(node.getInfo() instanceof TensorInfo info)) {
      why.append("'").append(name).append("' is a ").append(node.getInfo().getClass().getSimpleName())
          .append(", not a tensor");
      return null;
    }
    DataType type = dataType(info.type);
    if (type == null) {
      why.append("'").append(name).append("' has element type ").append(info.onnxType)
          .append(", which modserv has no type for");
      return null;
    }
    long[] shape = info.getShape();
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        shape[i] = -1;
      }
    }
    return TensorSpec.of(name, type, shape);
  }

  /**
   * Returns an ONNX Runtime tensor over {@code tensor}'s data. A direct buffer in native byte order
   * is handed over without a copy; ONNX Runtime copies anything else once into native memory. The
   * caller closes the result.
   */
  public static OnnxTensor toOrt(OrtEnvironment env, Tensor tensor) throws OrtException {
    long[] shape = tensor.shape();
    DataType type = tensor.dataType();
    return switch (type) {
      case STRING -> OnnxTensor.createTensor(env, tensor.toStringArray(), shape);
      case FP32 -> OnnxTensor.createTensor(env, nativeOrder(tensor.floatBuffer()), shape);
      case FP64 -> OnnxTensor.createTensor(env, nativeOrder(tensor.doubleBuffer()), shape);
      case INT32 -> OnnxTensor.createTensor(env, nativeOrder(tensor.intBuffer()), shape);
      case INT64 -> OnnxTensor.createTensor(env, nativeOrder(tensor.longBuffer()), shape);
      case INT16, FP16, BF16 ->
          OnnxTensor.createTensor(env, nativeOrder(tensor.shortBuffer()), shape, ortType(type));
      case INT8, UINT8, BOOL -> {
        ByteBuffer bytes = tensor.hasByteBuffer() ? tensor.byteBuffer() : tensor.toByteBuffer();
        yield OnnxTensor.createTensor(env, bytes, shape, ortType(type));
      }
    };
  }

  // A direct view in another byte order would be read wrongly by native code: copy it to the heap,
  // which ONNX Runtime then copies once more into native memory (rare: only big-endian views).
  private static FloatBuffer nativeOrder(FloatBuffer b) {
    return b.isDirect() && b.order() != ByteOrder.nativeOrder()
        ? FloatBuffer.allocate(b.remaining()).put(b).flip()
        : b;
  }

  private static DoubleBuffer nativeOrder(DoubleBuffer b) {
    return b.isDirect() && b.order() != ByteOrder.nativeOrder()
        ? DoubleBuffer.allocate(b.remaining()).put(b).flip()
        : b;
  }

  private static IntBuffer nativeOrder(IntBuffer b) {
    return b.isDirect() && b.order() != ByteOrder.nativeOrder()
        ? IntBuffer.allocate(b.remaining()).put(b).flip()
        : b;
  }

  private static LongBuffer nativeOrder(LongBuffer b) {
    return b.isDirect() && b.order() != ByteOrder.nativeOrder()
        ? LongBuffer.allocate(b.remaining()).put(b).flip()
        : b;
  }

  private static ShortBuffer nativeOrder(ShortBuffer b) {
    return b.isDirect() && b.order() != ByteOrder.nativeOrder()
        ? ShortBuffer.allocate(b.remaining()).put(b).flip()
        : b;
  }

  /** Copies an ONNX Runtime output into a modserv tensor. */
  public static Tensor fromOrt(String name, OnnxValue value) throws OrtException {
    if (!(value instanceof OnnxTensor tensor)) {
      throw new IllegalStateException(
          "output '" + name + "' is a " + value.getType() + ", not a tensor");
    }
    TensorInfo info = tensor.getInfo();
    DataType type = dataType(info.type);
    if (type == null) {
      throw new IllegalStateException(
          "output '" + name + "' has element type " + info.onnxType + ", which modserv has no type for");
    }
    long[] shape = info.getShape();
    if (type == DataType.STRING) {
      String[] flat = new String[Math.toIntExact(info.getNumElements())];
      flatten(tensor.getValue(), flat, 0);
      return Tensor.of(flat, shape);
    }
    ByteBuffer bytes = tensor.getByteBuffer();
    if (bytes == null) {
      throw new IllegalStateException("output '" + name + "' gave no data");
    }
    return Tensor.wrap(type, bytes.order(ByteOrder.nativeOrder()), shape);
  }

  private static int flatten(Object value, String[] into, int at) {
    if (value instanceof String s) {
      into[at] = s;
      return at + 1;
    }
    int next = at;
    int length = Array.getLength(value);
    for (int i = 0; i < length; i++) {
      next = flatten(Array.get(value, i), into, next);
    }
    return next;
  }

  /** Closes every tensor of {@code tensors}; OnnxTensor.close does not throw. */
  public static void closeTensors(Map<String, OnnxTensor> tensors) {
    for (OnnxTensor t : tensors.values()) {
      t.close();
    }
  }
}
