package dev.modserv.http.internal.oip;

import dev.modserv.api.DataType;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.http.internal.ClientText;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Models;
import dev.modserv.http.internal.Settings;
import dev.modserv.http.internal.Shapes;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Open Inference Protocol's binary tensor data extension (Triton's {@code binary_tensor_data}):
 * a JSON header of {@code Inference-Header-Content-Length} bytes, then the raw tensors in the order
 * the JSON names them, little-endian, row-major, unpadded; BOOL one byte; BYTES each element a
 * 4-byte little-endian length and its bytes ({@code reference/anchors-serving.md} §2.7).
 */
final class OipBinary {
  /** The request header giving the JSON part's length. */
  static final String HEADER = "Inference-Header-Content-Length";

  private OipBinary() {}

  /**
   * Returns the JSON header's length from {@code value}, or -1 when the header is absent.
   *
   * @throws HttpError 400 when it is not a length within the body
   */
  static int headerLength(@org.jspecify.annotations.Nullable String value, int bodyLength) {
    if (value == null) {
      return -1;
    }
    long n;
    try {
      n = Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new HttpError(400, HEADER + ": expected a byte count, got "
          + ClientText.quote(value));
    }
    if (n < 0 || n > bodyLength) {
      throw new HttpError(400, HEADER + ": " + n + " is outside the body of " + bodyLength
          + " bytes");
    }
    return (int) n;
  }

  /**
   * Builds a tensor of {@code type} and {@code shape} from {@code length} raw bytes at {@code
   * offset} of {@code body}.
   *
   * @throws HttpError 400 naming {@code path} when the bytes do not fit the shape
   */
  static Tensor decode(DataType type, long[] shape, byte[] body, int offset, int length,
      String path) {
    int count = Shapes.elements(path, type, shape);
    if (type == DataType.STRING) {
      return decodeStrings(strings(body, offset, length, path), shape, path);
    }
    // Cannot overflow: Shapes keeps count * byteSize within an int.
    long expected = (long) count * type.byteSize();
    if (expected != length) {
      throw HttpError.badField(path, type + " tensor of shape " + Shapes.show(shape)
          + " needs " + expected + " bytes, binary_data_size is " + length);
    }
    ByteBuffer raw = ByteBuffer.wrap(body, offset, length).slice().order(ByteOrder.LITTLE_ENDIAN);
    return Tensor.wrap(type, raw, shape);
  }

  /** Reads BYTES elements: each a 4-byte little-endian length and that many UTF-8 bytes. */
  static List<String> strings(byte[] body, int offset, int length, String path) {
    List<String> out = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(body, offset, length).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      if (b.remaining() < 4) {
        throw HttpError.badField(path, "BYTES element " + out.size() + " has a truncated"
            + " 4-byte length");
      }
      long n = Integer.toUnsignedLong(b.getInt());
      if (n > b.remaining()) {
        throw HttpError.badField(path, "BYTES element " + out.size() + " says " + n
            + " bytes but " + b.remaining() + " remain");
      }
      out.add(new String(body, b.position(), (int) n, StandardCharsets.UTF_8));
      b.position(b.position() + (int) n);
    }
    return out;
  }

  /**
   * A raw request ({@code Inference-Header-Content-Length: 0}): the body is the one input of a
   * one-input model, batch 1, with at most one other variable dimension, sized from the body; every
   * output answers binary.
   */
  static void rawInfer(Settings settings, Exchange ex, ModelRef ref) throws Exception {
    String name = ref.name();
    ModelMetadata md = Models.metadata(settings.server().registry(), ref).orElseThrow(
        () -> new HttpError(400, "a raw binary request needs the model's single input; '" + name
            + "' is not loaded yet, so its input is unknown"));
    if (md.inputs().size() != 1) {
      throw new HttpError(400, "a raw binary request (" + HEADER + ": 0) needs a model with one"
          + " input; '" + name + "' has " + md.inputs().size());
    }
    TensorSpec spec = md.inputs().get(0);
    if (!spec.isRankKnown()) {
      throw new HttpError(400, "a raw binary request needs an input of known rank; '"
          + spec.name() + "' has none");
    }
    long[] shape = spec.shape();
    if (shape.length > 0 && shape[0] < 0) {
      shape[0] = 1;
    }
    int variable = -1;
    long fixed = 1;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        if (variable >= 0) {
          throw new HttpError(400, "a raw binary request allows one variable dimension besides"
              + " the batch; input '" + spec.name() + "' has more: " + Arrays.toString(
                  spec.shape()));
        }
        variable = i;
      } else {
        fixed *= shape[i];
      }
    }
    byte[] body = ex.body();
    Tensor input;
    if (spec.dataType() == DataType.STRING) {
      List<String> elements = strings(body, 0, body.length, "body");
      if (variable >= 0 && fixed > 0) {
        shape[variable] = elements.size() / fixed;
      }
      input = decodeStrings(elements, shape, "body");
    } else {
      long unit = fixed * spec.dataType().byteSize();
      if (variable >= 0) {
        if (unit == 0 || body.length % unit != 0) {
          throw new HttpError(400, "body of " + body.length + " bytes is not a whole number of "
              + spec.dataType() + " elements of shape " + Arrays.toString(spec.shape()));
        }
        shape[variable] = body.length / unit;
      }
      input = decode(spec.dataType(), shape, body, 0, body.length, "body");
    }
    settings.calls().infer(ex, InferenceRequest.builder(ref).input(spec.name(), input).build(),
        result -> OipApi.answer(ex, result, null, List.of(), true));
  }

  private static Tensor decodeStrings(List<String> elements, long[] shape, String path) {
    int count = Shapes.elements(path, DataType.STRING, shape);
    if (count != elements.size()) {
      throw HttpError.badField(path, "shape " + Shapes.show(shape) + " holds " + count
          + " elements, got " + elements.size() + " BYTES elements");
    }
    return Tensor.of(elements.toArray(String[]::new), shape);
  }

  /** Returns {@code t}'s elements as the extension lays them out. */
  static byte[] encode(Tensor t) {
    int n = t.elementCount();
    return switch (t.dataType()) {
      case STRING -> {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] len = new byte[4];
        for (String s : t.strings()) {
          byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
          ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).putInt(bytes.length);
          out.write(len, 0, 4);
          out.write(bytes, 0, bytes.length);
        }
        yield out.toByteArray();
      }
      case BOOL -> {
        boolean[] a = t.toBooleanArray();
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
          out[i] = (byte) (a[i] ? 1 : 0);
        }
        yield out;
      }
      case INT8, UINT8 -> t.toByteArray();
      default -> {
        ByteBuffer out = ByteBuffer.allocate(n * t.dataType().byteSize())
            .order(ByteOrder.LITTLE_ENDIAN);
        switch (t.dataType()) {
          case FP32 -> out.asFloatBuffer().put(t.floatBuffer());
          case FP64 -> out.asDoubleBuffer().put(t.doubleBuffer());
          case INT32 -> out.asIntBuffer().put(t.intBuffer());
          case INT64 -> out.asLongBuffer().put(t.longBuffer());
          case INT16, FP16, BF16 -> out.asShortBuffer().put(t.shortBuffer());
          default -> throw new IllegalStateException("unexpected type " + t.dataType());
        }
        yield out.array();
      }
    };
  }

  /** Concatenates the JSON header and the raw tensors. */
  static byte[] body(byte[] json, List<byte[]> raw) {
    int total = json.length;
    for (byte[] r : raw) {
      total = Math.addExact(total, r.length);
    }
    byte[] out = Arrays.copyOf(json, total);
    int at = json.length;
    for (byte[] r : raw) {
      System.arraycopy(r, 0, out, at, r.length);
      at += r.length;
    }
    return out;
  }
}
