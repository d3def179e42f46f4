package dev.modserv.http.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A JSON array of numbers, booleans or strings, nested or flat, read token by token into primitive
 * arrays (no tree of boxed numbers), with its shape taken from the nesting. Ragged arrays and
 * mixed element kinds are refused with the path of the first bad element. The element type is
 * chosen afterwards, when the model's input type is known: {@link #toTensor}, which fills the
 * tensor's own array and wraps it (no second copy). Reading allocates per request only the
 * element arrays and the shape: no boxed numbers or dimensions.
 */
public final class JsonTensor {
  private enum Kind {
    EMPTY,
    NUMBER,
    BOOL,
    STRING
  }

  private final long[] shape;
  private final Kind kind;
  private final int count;
  private final double[] doubles;
  /** The integer elements exactly, while every element so far was an integer; else empty. */
  private final long[] longs;
  private final boolean integral;
  private final boolean[] bools;
  private final List<String> strings;

  private JsonTensor(Reader r) {
    this.shape = r.shape();
    this.kind = r.kind;
    this.count = r.count;
    this.doubles = r.doubles;
    this.longs = r.longs;
    this.integral = r.integral;
    this.bools = r.bools;
    this.strings = r.strings;
  }

  /**
   * Reads the array the parser's current token starts.
   *
   * @param path the JSON path of the array, for error messages, e.g. {@code inputs.x}
   * @throws HttpError 400 naming the path of a bad element
   */
  public static JsonTensor read(JsonParser p, String path) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw HttpError.badField(path, "expected an array, got " + Json.describe(p.currentToken()));
    }
    Reader r = new Reader(path);
    r.readArray(p, 0);
    return new JsonTensor(r);
  }

  /** Returns the shape the nesting gave. */
  public long[] shape() {
    return shape.clone();
  }

  /** Returns the number of elements. */
  public int count() {
    return count;
  }

  /**
   * Builds a tensor of {@code type} and {@code shape} (whose element count must match).
   *
   * @throws HttpError 400 naming {@code path} when the elements do not fit {@code type}
   */
  public Tensor toTensor(DataType type, long[] shape, String path) {
    int expected = Shapes.elements(path, type, shape);
    if (expected != count) {
      throw HttpError.badField(path, "shape " + Shapes.show(shape) + " holds " + expected
          + " elements, got " + count);
    }
    return switch (type) {
      // Each array below is the tensor's own, wrapped without a copy: nothing else holds it.
      case FP32 -> {
        numbers(type, path);
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
          a[i] = (float) doubles[i];
          if (Float.isInfinite(a[i])) {
            throw outOfRange(path, i, type);
          }
        }
        yield Tensor.wrap(FloatBuffer.wrap(a), shape);
      }
      case FP64 -> {
        numbers(type, path);
        for (int i = 0; i < count; i++) {
          // JSON has no infinity: an infinite value is a number too large for a double.
          if (Double.isInfinite(doubles[i])) {
            throw outOfRange(path, i, type);
          }
        }
        yield Tensor.wrap(DoubleBuffer.wrap(Arrays.copyOf(doubles, count)), shape);
      }
      case INT64 -> {
        integers(type, path, Long.MIN_VALUE, Long.MAX_VALUE);
        yield Tensor.wrap(LongBuffer.wrap(Arrays.copyOf(longs, count)), shape);
      }
      case INT32 -> {
        integers(type, path, Integer.MIN_VALUE, Integer.MAX_VALUE);
        int[] a = new int[count];
        for (int i = 0; i < count; i++) {
          a[i] = (int) longs[i];
        }
        yield Tensor.wrap(IntBuffer.wrap(a), shape);
      }
      case INT16 -> {
        integers(type, path, Short.MIN_VALUE, Short.MAX_VALUE);
        short[] a = new short[count];
        for (int i = 0; i < count; i++) {
          a[i] = (short) longs[i];
        }
        yield Tensor.wrap(DataType.INT16, ShortBuffer.wrap(a), shape);
      }
      case INT8, UINT8 -> {
        if (type == DataType.INT8) {
          integers(type, path, Byte.MIN_VALUE, Byte.MAX_VALUE);
        } else {
          integers(type, path, 0, 255);
        }
        byte[] a = new byte[count];
        for (int i = 0; i < count; i++) {
          a[i] = (byte) longs[i];
        }
        yield Tensor.wrap(type, ByteBuffer.wrap(a), shape);
      }
      case BOOL -> {
        if (kind != Kind.BOOL && kind != Kind.EMPTY) {
          throw HttpError.badField(path, "expected BOOL elements (true or false), got " + kindName());
        }
        yield Tensor.of(Arrays.copyOf(bools, count), shape);
      }
      case STRING -> {
        if (kind != Kind.STRING && kind != Kind.EMPTY) {
          throw HttpError.badField(path, "expected strings, got " + kindName());
        }
        yield Tensor.of(strings.toArray(String[]::new), shape);
      }
      case FP16, BF16 -> throw HttpError.badField(path,
          type + " cannot be sent as JSON numbers; send FP32");
    };
  }

  private void numbers(DataType type, String path) {
    if (kind != Kind.NUMBER && kind != Kind.EMPTY) {
      throw HttpError.badField(path, "expected " + type + " numbers, got " + kindName());
    }
  }

  private void integers(DataType type, String path, long min, long max) {
    numbers(type, path);
    if (!integral) {
      throw HttpError.badField(path, "expected " + type + " integers, got a number with a fraction");
    }
    for (int i = 0; i < count; i++) {
      if (longs[i] < min || longs[i] > max) {
        throw HttpError.badField(path, "element " + i + " = " + longs[i] + " is out of range for "
            + type);
      }
    }
  }

  private HttpError outOfRange(String path, int i, DataType type) {
    return HttpError.badField(path, "element " + i + " = " + doubles[i] + " is out of range for "
        + type);
  }

  private String kindName() {
    return switch (kind) {
      case EMPTY -> "nothing";
      case NUMBER -> "numbers";
      case BOOL -> "booleans";
      case STRING -> "strings";
    };
  }

  /** Reads one nested array, growing primitive arrays as it goes. */
  private static final class Reader {
    private static final long[] NO_LONGS = new long[0];

    private final String path;
    /** The length of each depth's arrays, -1 until the first array of that depth ends. */
    private long[] dims = new long[4];
    /** How many depths {@link #dims} holds. */
    private int rank;
    /** The position in each open array, for the path in an error. */
    private int[] index = new int[4];
    /** How many arrays are open. */
    private int open;
    private int leafDepth = -1;
    Kind kind = Kind.EMPTY;
    int count;
    double[] doubles = new double[16];
    long[] longs = NO_LONGS;
    boolean integral = true;
    boolean[] bools = new boolean[0];
    List<String> strings = List.of();

    Reader(String path) {
      this.path = path;
    }

    long[] shape() {
      return rank == 0 ? new long[] {0} : Arrays.copyOf(dims, rank);
    }

    private String at() {
      StringBuilder b = new StringBuilder(path);
      for (int i = 0; i < open; i++) {
        b.append('[').append(index[i]).append(']');
      }
      return b.toString();
    }

    void readArray(JsonParser p, int depth) throws IOException {
      if (open == index.length) {
        index = Arrays.copyOf(index, open * 2);
      }
      index[open++] = 0;
      int n = 0;
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (t == null) {
          throw HttpError.badField(at(), "unexpected end of input");
        }
        index[depth] = n;
        if (t == JsonToken.START_ARRAY) {
          if (leafDepth >= 0 && depth + 1 > leafDepth) {
            throw HttpError.badField(at(), "expected a value, got an array (ragged nesting)");
          }
          readArray(p, depth + 1);
        } else {
          if (leafDepth < 0) {
            leafDepth = depth;
          } else if (leafDepth != depth) {
            throw HttpError.badField(at(), "expected an array, got a value (ragged nesting)");
          }
          value(p, t);
        }
        n++;
      }
      open--;
      if (n == 0 && leafDepth < 0) {
        // [] or [[], []]: this depth is the last.
        leafDepth = depth + 1;
      }
      while (rank <= depth) {
        if (rank == dims.length) {
          dims = Arrays.copyOf(dims, rank * 2);
        }
        dims[rank++] = -1;
      }
      if (dims[depth] < 0) {
        dims[depth] = n;
      } else if (dims[depth] != n) {
        throw HttpError.badField(at(), "ragged array: expected " + dims[depth]
            + " elements, got " + n);
      }
    }

    private void value(JsonParser p, JsonToken t) throws IOException {
      Kind k = switch (t) {
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> Kind.NUMBER;
        case VALUE_TRUE, VALUE_FALSE -> Kind.BOOL;
        case VALUE_STRING -> Kind.STRING;
        default -> throw HttpError.badField(at(), "expected a number, boolean or string, got "
            + Json.describe(t));
      };
      if (kind == Kind.EMPTY) {
        kind = k;
        if (k == Kind.BOOL) {
          bools = new boolean[16];
        } else if (k == Kind.STRING) {
          strings = new ArrayList<>();
        }
      } else if (kind != k) {
        throw HttpError.badField(at(), "mixed element kinds: expected " + kind.name().toLowerCase(
            java.util.Locale.ROOT) + ", got " + k.name().toLowerCase(java.util.Locale.ROOT));
      }
      switch (k) {
        case NUMBER -> {
          if (count == doubles.length) {
            doubles = Arrays.copyOf(doubles, count * 2);
          }
          if (t == JsonToken.VALUE_NUMBER_INT) {
            long exact;
            try {
              exact = p.getLongValue();
            } catch (InputCoercionException e) {
              throw HttpError.badField(at(), "integer out of range: "
                  + ClientText.echo(p.getText()));
            }
            if (integral) {
              if (count == longs.length) {
                longs = Arrays.copyOf(longs, doubles.length);
              }
              longs[count] = exact;
            }
            doubles[count] = p.getDoubleValue();
          } else {
            // Integer types refuse a fraction anywhere: the exact values are not needed any more.
            integral = false;
            longs = NO_LONGS;
            doubles[count] = p.getDoubleValue();
          }
        }
        case BOOL -> {
          if (count == bools.length) {
            bools = Arrays.copyOf(bools, count * 2);
          }
          bools[count] = t == JsonToken.VALUE_TRUE;
        }
        case STRING -> strings.add(p.getText());
        case EMPTY -> throw new AssertionError();
      }
      count++;
    }
  }
}
