package dev.modserv.http.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** JSON helpers shared by the translators: one factory, response writing, tensor writing. */
public final class Json {
  /** The mapper; thread-safe once configured. */
  public static final ObjectMapper MAPPER = new ObjectMapper();

  /** The factory the translators parse and write with. */
  public static final JsonFactory FACTORY = MAPPER.getFactory().rebuild()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      // Jackson's own port of FastDoubleParser: the same values as Double.parseDouble, faster.
      .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
      .recyclerPool(new JsonBuffers())
      .build();

  private Json() {}

  /** Writes a JSON document; {@code body} fills the generator. */
  public static byte[] write(IoConsumer<JsonGenerator> body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      body.accept(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Returns {@code {"error": message}}. */
  public static byte[] error(String message) {
    return write(g -> {
      g.writeStartObject();
      g.writeStringField("error", message);
      g.writeEndObject();
    });
  }

  /** Opens a parser on {@code body}. */
  public static JsonParser parser(byte[] body) throws IOException {
    return FACTORY.createParser(body);
  }

  /** Describes a token for error messages: "a string", "an object", ... */
  public static String describe(@Nullable JsonToken t) {
    if (t == null) {
      return "end of input";
    }
    return switch (t) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      default -> t.toString();
    };
  }

  /** Returns the Open Inference Protocol name of {@code type} ({@code STRING} is {@code BYTES}). */
  public static String wireName(DataType type) {
    return type == DataType.STRING ? "BYTES" : type.name();
  }

  /** Writes {@code "name": [{"name", "datatype", "shape"}, ...]}. */
  public static void writeSpecs(JsonGenerator g, String field, List<TensorSpec> specs)
      throws IOException {
    g.writeArrayFieldStart(field);
    for (TensorSpec s : specs) {
      g.writeStartObject();
      g.writeStringField("name", s.name());
      g.writeStringField("datatype", wireName(s.dataType()));
      g.writeFieldName("shape");
      writeShape(g, s.isRankKnown() ? s.shape() : new long[0]);
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  /** Writes a shape as an array of numbers. */
  /**
   * Writes an engine-reported count (a model property such as {@code parameters}) as a number;
   * writes nothing when it is absent or not a plain non-negative number.
   */
  public static void writeCount(JsonGenerator g, String field, @Nullable String value)
      throws IOException {
    if (value != null && !value.isEmpty() && value.length() < 19
        && value.chars().allMatch(c -> c >= '0' && c <= '9')) {
      g.writeNumberField(field, Long.parseLong(value));
    }
  }

  public static void writeShape(JsonGenerator g, long[] shape) throws IOException {
    g.writeArray(shape, 0, shape.length);
  }

  /** Writes {@code t}'s elements as one flat array, row-major. */
  public static void writeFlat(JsonGenerator g, Tensor t) throws IOException {
    Elements e = Elements.of(t);
    g.writeStartArray();
    for (int i = 0; i < e.count(); i++) {
      e.write(g, i);
    }
    g.writeEndArray();
  }

  /** Writes {@code t}'s elements as arrays nested as its shape says. */
  public static void writeNested(JsonGenerator g, Tensor t) throws IOException {
    Elements e = Elements.of(t);
    long[] shape = t.shape();
    if (shape.length == 0) {
      e.write(g, 0);
      return;
    }
    writeLevel(g, e, shape, 0, 0);
  }

  private static int writeLevel(JsonGenerator g, Elements e, long[] shape, int depth, int at)
      throws IOException {
    g.writeStartArray();
    int next = at;
    for (long i = 0; i < shape[depth]; i++) {
      if (depth == shape.length - 1) {
        e.write(g, next++);
      } else {
        next = writeLevel(g, e, shape, depth + 1, next);
      }
    }
    g.writeEndArray();
    return next;
  }

  /** A tensor's elements, read once into a primitive array. */
  private interface Elements {
    int count();

    void write(JsonGenerator g, int i) throws IOException;

    static Elements of(Tensor t) {
      int n = t.elementCount();
      return switch (t.dataType()) {
        case FP32 -> {
          float[] a = t.toFloatArray();
          yield new Simple(n, (g, i) -> g.writeNumber(a[i]));
        }
        case FP64 -> {
          double[] a = t.toDoubleArray();
          yield new Simple(n, (g, i) -> g.writeNumber(a[i]));
        }
        case INT64 -> {
          long[] a = t.toLongArray();
          yield new Simple(n, (g, i) -> g.writeNumber(a[i]));
        }
        case INT32 -> {
          int[] a = t.toIntArray();
          yield new Simple(n, (g, i) -> g.writeNumber(a[i]));
        }
        case INT16 -> {
          short[] a = t.toShortArray();
          yield new Simple(n, (g, i) -> g.writeNumber(a[i]));
        }
        case FP16 -> {
          short[] a = t.toShortArray();
          yield new Simple(n, (g, i) -> g.writeNumber(Float.float16ToFloat(a[i])));
        }
        case BF16 -> {
          short[] a = t.toShortArray();
          yield new Simple(n, (g, i) -> g.writeNumber(Float.intBitsToFloat((a[i] & 0xFFFF) << 16)));
        }
        case INT8 -> {
          byte[] a = t.toByteArray();
          yield new Simple(n, (g, i) -> g.writeNumber(a[i]));
        }
        case UINT8 -> {
          byte[] a = t.toByteArray();
          yield new Simple(n, (g, i) -> g.writeNumber(a[i] & 0xFF));
        }
        case BOOL -> {
          boolean[] a = t.toBooleanArray();
          yield new Simple(n, (g, i) -> g.writeBoolean(a[i]));
        }
        case STRING -> {
          String[] a = t.toStringArray();
          yield new Simple(n, (g, i) -> g.writeString(a[i]));
        }
      };
    }
  }

  private interface ElementWriter {
    void write(JsonGenerator g, int i) throws IOException;
  }

  private record Simple(int count, ElementWriter writer) implements Elements {
    @Override
    public void write(JsonGenerator g, int i) throws IOException {
      writer.write(g, i);
    }
  }

  /** A consumer that may throw {@link IOException}. */
  @FunctionalInterface
  public interface IoConsumer<T> {
    /** Accepts {@code value}. */
    void accept(T value) throws IOException;
  }
}
