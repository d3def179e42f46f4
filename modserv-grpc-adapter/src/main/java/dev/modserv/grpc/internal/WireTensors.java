package dev.modserv.grpc.internal;

import com.google.protobuf.ByteString;
import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.grpc.internal.proto.InferTensorContents;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Tensors in the protocol's two gRPC forms: typed {@link InferTensorContents} fields, and raw bytes
 * (little-endian, row-major, unpadded; BOOL one byte; each BYTES element a 4-byte little-endian
 * length and its bytes). A value that does not fit is refused with {@code INVALID_INPUT} naming
 * the field.
 */
final class WireTensors {
  private WireTensors() {}

  private static final Map<String, DataType> TYPES = Map.ofEntries(
      Map.entry("BOOL", DataType.BOOL), Map.entry("UINT8", DataType.UINT8),
      Map.entry("INT8", DataType.INT8), Map.entry("INT16", DataType.INT16),
      Map.entry("INT32", DataType.INT32), Map.entry("INT64", DataType.INT64),
      Map.entry("FP16", DataType.FP16), Map.entry("BF16", DataType.BF16),
      Map.entry("FP32", DataType.FP32), Map.entry("FP64", DataType.FP64),
      Map.entry("BYTES", DataType.STRING));

  static InvalidInput bad(String field, String problem) {
    return new InvalidInput(field + ": " + problem);
  }

  /** A request that does not fit the protocol or the model: INVALID_ARGUMENT. */
  static final class InvalidInput extends ModelServingException {
    private static final long serialVersionUID = 1L;

    InvalidInput(String message) {
      super(ErrorCode.INVALID_INPUT, message);
    }
  }

  /** The protocol's name of {@code type}. */
  static String wireName(DataType type) {
    return type == DataType.STRING ? "BYTES" : type.name();
  }

  /** modserv's type of the protocol's {@code wire} name. */
  static DataType dataType(String wire, String field) {
    DataType type = TYPES.get(wire);
    if (type == null) {
      throw bad(field, wire.matches("UINT(16|32|64)")
          ? "datatype " + wire + " is not supported by modserv"
          : "unknown datatype '" + wire + "'; expected one of " + new TreeSet<>(TYPES.keySet()));
    }
    return type;
  }

  /** Checks the dimensions and returns the element count. */
  static int elementCount(List<Long> dims, String field) {
    long count = 1;
    for (int i = 0; i < dims.size(); i++) {
      long d = dims.get(i);
      if (d < 0) {
        throw bad(field + "[" + i + "]", "expected a dimension >= 0, got " + d);
      }
      count = d == 0 || count == 0 ? 0 : count * d;
      if (count > Integer.MAX_VALUE) {
        throw bad(field, "shape " + dims + " holds more than " + Integer.MAX_VALUE + " elements");
      }
    }
    return (int) count;
  }

  // ---- typed contents ----

  /** Builds a tensor from its typed contents. */
  static Tensor fromContents(DataType type, long[] shape, int count, InferTensorContents c,
      String field) {
    String f = field + ".contents";
    return switch (type) {
      case BOOL -> {
        check(c.getBoolContentsCount(), count, f + ".bool_contents", shape);
        boolean[] a = new boolean[count];
        for (int i = 0; i < count; i++) {
          a[i] = c.getBoolContents(i);
        }
        yield Tensor.of(a, shape);
      }
      case INT8, UINT8 -> {
        String name = type == DataType.INT8 ? ".int_contents" : ".uint_contents";
        int n = type == DataType.INT8 ? c.getIntContentsCount() : c.getUintContentsCount();
        check(n, count, f + name, shape);
        byte[] a = new byte[count];
        for (int i = 0; i < count; i++) {
          int v = type == DataType.INT8 ? c.getIntContents(i) : c.getUintContents(i);
          boolean fits = type == DataType.INT8 ? v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE
              : v >= 0 && v <= 255;
          if (!fits) {
            throw bad(f + name + "[" + i + "]", Integer.toUnsignedString(v) + " is out of range for "
                + type);
          }
          a[i] = (byte) v;
        }
        yield Tensor.of(type, a, shape);
      }
      case INT16 -> {
        check(c.getIntContentsCount(), count, f + ".int_contents", shape);
        short[] a = new short[count];
        for (int i = 0; i < count; i++) {
          int v = c.getIntContents(i);
          if (v < Short.MIN_VALUE || v > Short.MAX_VALUE) {
            throw bad(f + ".int_contents[" + i + "]", v + " is out of range for INT16");
          }
          a[i] = (short) v;
        }
        yield Tensor.of(DataType.INT16, a, shape);
      }
      case INT32 -> {
        check(c.getIntContentsCount(), count, f + ".int_contents", shape);
        yield Tensor.of(toInts(c.getIntContentsList()), shape);
      }
      case INT64 -> {
        check(c.getInt64ContentsCount(), count, f + ".int64_contents", shape);
        long[] a = new long[count];
        for (int i = 0; i < count; i++) {
          a[i] = c.getInt64Contents(i);
        }
        yield Tensor.of(a, shape);
      }
      case FP32 -> {
        check(c.getFp32ContentsCount(), count, f + ".fp32_contents", shape);
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
          a[i] = c.getFp32Contents(i);
        }
        yield Tensor.of(a, shape);
      }
      case FP64 -> {
        check(c.getFp64ContentsCount(), count, f + ".fp64_contents", shape);
        double[] a = new double[count];
        for (int i = 0; i < count; i++) {
          a[i] = c.getFp64Contents(i);
        }
        yield Tensor.of(a, shape);
      }
      case STRING -> {
        check(c.getBytesContentsCount(), count, f + ".bytes_contents", shape);
        String[] a = new String[count];
        for (int i = 0; i < count; i++) {
          a[i] = c.getBytesContents(i).toStringUtf8();
        }
        yield Tensor.of(a, shape);
      }
      case FP16, BF16 -> throw bad(f, "the protocol has no contents field for " + type
          + "; send it in raw_input_contents");
    };
  }

  private static int[] toInts(List<Integer> list) {
    int[] a = new int[list.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = list.get(i);
    }
    return a;
  }

  private static void check(int got, int expected, String field, long[] shape) {
    if (got != expected) {
      throw bad(field, "shape " + Arrays.toString(shape) + " holds " + expected
          + " elements, got " + got);
    }
  }

  /** Whether {@code type} has a typed contents field (FP16 and BF16 have none). */
  static boolean hasContentsField(DataType type) {
    return type != DataType.FP16 && type != DataType.BF16;
  }

  /** Returns {@code t}'s elements as typed contents; FP16 and BF16 have none. */
  static InferTensorContents toContents(Tensor t) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    switch (t.dataType()) {
      case BOOL -> {
        for (boolean b : t.toBooleanArray()) {
          c.addBoolContents(b);
        }
      }
      case INT8 -> {
        for (byte b : t.toByteArray()) {
          c.addIntContents(b);
        }
      }
      case UINT8 -> {
        for (byte b : t.toByteArray()) {
          c.addUintContents(Byte.toUnsignedInt(b));
        }
      }
      case INT16 -> {
        for (short s : t.toShortArray()) {
          c.addIntContents(s);
        }
      }
      case INT32 -> {
        for (int v : t.toIntArray()) {
          c.addIntContents(v);
        }
      }
      case INT64 -> {
        for (long v : t.toLongArray()) {
          c.addInt64Contents(v);
        }
      }
      case FP32 -> {
        for (float v : t.toFloatArray()) {
          c.addFp32Contents(v);
        }
      }
      case FP64 -> {
        for (double v : t.toDoubleArray()) {
          c.addFp64Contents(v);
        }
      }
      case STRING -> {
        for (String s : t.strings()) {
          c.addBytesContents(ByteString.copyFromUtf8(s));
        }
      }
      case FP16, BF16 -> throw new IllegalStateException(t.dataType() + " has no contents field");
    }
    return c.build();
  }

  // ---- raw contents ----

  /** Builds a tensor from its raw bytes, without copying fixed-size elements. */
  static Tensor fromRaw(DataType type, long[] shape, int count, ByteString raw, String field) {
    if (type == DataType.STRING) {
      List<String> elements = strings(raw, field);
      if (elements.size() != count) {
        throw bad(field, "shape " + Arrays.toString(shape) + " holds " + count + " elements, got "
            + elements.size() + " BYTES elements");
      }
      return Tensor.of(elements.toArray(String[]::new), shape);
    }
    long expected = (long) count * type.byteSize();
    if (raw.size() != expected) {
      throw bad(field, type + " tensor of shape " + Arrays.toString(shape) + " needs " + expected
          + " bytes, got " + raw.size());
    }
    return Tensor.wrap(type, raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN), shape);
  }

  /** Reads BYTES elements: each a 4-byte little-endian length and that many bytes. */
  private static List<String> strings(ByteString raw, String field) {
    ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    List<String> out = new ArrayList<>();
    while (b.hasRemaining()) {
      if (b.remaining() < 4) {
        throw bad(field, "BYTES element " + out.size() + " has a truncated 4-byte length");
      }
      long n = Integer.toUnsignedLong(b.getInt());
      if (n > b.remaining()) {
        throw bad(field, "BYTES element " + out.size() + " says " + n + " bytes but "
            + b.remaining() + " remain");
      }
      int start = b.position();
      out.add(raw.substring(start, start + (int) n).toStringUtf8());
      b.position(start + (int) n);
    }
    return out;
  }

  /** Returns {@code t}'s elements in the raw layout. */
  static ByteString toRaw(Tensor t) {
    if (t.dataType() == DataType.STRING) {
      ByteString.Output out = ByteString.newOutput();
      byte[] length = new byte[4];
      for (String s : t.strings()) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        ByteBuffer.wrap(length).order(ByteOrder.LITTLE_ENDIAN).putInt(bytes.length);
        out.write(length, 0, 4);
        out.write(bytes, 0, bytes.length);
      }
      return out.toByteString();
    }
    if (t.dataType().byteSize() == 1) {
      return ByteString.copyFrom(t.byteBuffer());
    }
    ByteBuffer out = ByteBuffer.allocate(t.elementCount() * t.dataType().byteSize())
        .order(ByteOrder.LITTLE_ENDIAN);
    switch (t.dataType()) {
      case FP32 -> out.asFloatBuffer().put(t.floatBuffer());
      case FP64 -> out.asDoubleBuffer().put(t.doubleBuffer());
      case INT32 -> out.asIntBuffer().put(t.intBuffer());
      case INT64 -> out.asLongBuffer().put(t.longBuffer());
      default -> out.asShortBuffer().put(t.shortBuffer());
    }
    // The array is ours alone from here on: no copy.
    return com.google.protobuf.UnsafeByteOperations.unsafeWrap(out.array());
  }

  /** The value of a parameter as modserv passes it on (a string), or null when it has none. */
  static @Nullable String parameterText(dev.modserv.grpc.internal.proto.InferParameter p) {
    return switch (p.getParameterChoiceCase()) {
      case BOOL_PARAM -> Boolean.toString(p.getBoolParam());
      case INT64_PARAM -> Long.toString(p.getInt64Param());
      case STRING_PARAM -> p.getStringParam();
      case DOUBLE_PARAM -> Double.toString(p.getDoubleParam());
      case UINT64_PARAM -> Long.toUnsignedString(p.getUint64Param());
      case PARAMETERCHOICE_NOT_SET -> null;
    };
  }
}
