package dev.modserv.onnx.internal;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Sums the bytes of an ONNX model's initializers (its weights) from the file, without loading it:
 * the protobuf is streamed, {@code ModelProto.graph} and each {@code GraphProto.initializer} are
 * entered, everything else is skipped. An initializer weighs its dimensions' product times its
 * element type's width (so weights kept in external data files count too); a string one, its
 * strings' bytes. Every length is bounded by the file, so a broken file fails at once.
 */
public final class OnnxInitializers {
  private static final int MODEL_GRAPH = 7;
  private static final int GRAPH_INITIALIZER = 5;
  private static final int TENSOR_DIMS = 1;
  private static final int TENSOR_DATA_TYPE = 2;
  private static final int TENSOR_STRING_DATA = 6;
  private static final int TENSOR_RAW_DATA = 9;
  private static final int STRING = 8;

  private OnnxInitializers() {}

  /**
   * Returns the initializers' bytes of {@code onnxFile}.
   *
   * @throws IOException when the file cannot be read or is not a protobuf message
   */
  public static long bytes(Path onnxFile) throws IOException {
    long size = Files.size(onnxFile);
    try (InputStream in = new BufferedInputStream(Files.newInputStream(onnxFile), 1 << 16)) {
      Wire w = new Wire(in, size);
      long total = 0;
      while (w.position < size) {
        long tag = w.varint();
        if (tag >>> 3 == MODEL_GRAPH && (tag & 7) == 2) {
          long end = w.end();
          while (w.position < end) {
            long t = w.varint();
            if (t >>> 3 == GRAPH_INITIALIZER && (t & 7) == 2) {
              total = Math.addExact(total, tensor(w, w.end()));
            } else {
              w.skip(t);
            }
          }
        } else {
          w.skip(tag);
        }
      }
      return total;
    } catch (ArithmeticException e) {
      throw new IOException("ONNX file " + onnxFile.getFileName() + ": initializer sizes"
          + " overflow", e);
    }
  }

  /** One TensorProto's bytes: dims × width, else its string or raw data's length. */
  private static long tensor(Wire w, long end) throws IOException {
    long elements = 1;
    int type = 0;
    long dataBytes = 0;
    while (w.position < end) {
      long t = w.varint();
      int field = (int) (t >>> 3);
      if (field == TENSOR_DIMS && (t & 7) == 0) {
        elements = Math.multiplyExact(elements, w.varint());
      } else if (field == TENSOR_DIMS && (t & 7) == 2) {
        long packedEnd = w.end();
        while (w.position < packedEnd) {
          elements = Math.multiplyExact(elements, w.varint());
        }
      } else if (field == TENSOR_DATA_TYPE && (t & 7) == 0) {
        type = (int) w.varint();
      } else if ((field == TENSOR_STRING_DATA || field == TENSOR_RAW_DATA) && (t & 7) == 2) {
        long n = w.length();
        dataBytes = Math.addExact(dataBytes, n);
        w.skipBytes(n);
      } else {
        w.skip(t);
      }
    }
    double width = width(type);
    return type == STRING || width == 0 ? dataBytes : (long) Math.ceil(elements * width);
  }

  /** Bytes per element of an ONNX TensorProto.DataType; 0 when unknown. */
  static double width(int type) {
    return switch (type) {
      case 2, 3, 9, 17, 18, 19, 20 -> 1;          // uint8, int8, bool, float8 kinds
      case 4, 5, 10, 16 -> 2;                     // uint16, int16, float16, bfloat16
      case 1, 6, 12 -> 4;                         // float, int32, uint32
      case 7, 11, 13, 14 -> 8;                    // int64, double, uint64, complex64
      case 15 -> 16;                              // complex128
      case 21, 22, 23 -> 0.5;                     // uint4, int4, float4
      default -> 0;
    };
  }

  /** Protobuf wire reading with a position, bounded by the file's size. */
  private static final class Wire {
    private final InputStream in;
    private final long size;
    private long position;

    Wire(InputStream in, long size) {
      this.in = in;
      this.size = size;
    }

    long varint() throws IOException {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        int b = in.read();
        if (b < 0) {
          throw new EOFException("truncated at byte " + position);
        }
        position++;
        v |= (long) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
          return v;
        }
      }
      throw new IOException("a varint longer than 10 bytes at byte " + position);
    }

    long length() throws IOException {
      long n = varint();
      if (n < 0 || n > size - position) {
        throw new IOException("a length of " + n + " bytes at byte " + position
            + " runs past the end of the file");
      }
      return n;
    }

    /** Reads a length and returns where that embedded message ends. */
    long end() throws IOException {
      return position + length();
    }

    void skipBytes(long n) throws IOException {
      in.skipNBytes(n);
      position += n;
    }

    /** Skips the value of the field whose tag was just read. */
    void skip(long tag) throws IOException {
      switch ((int) (tag & 7)) {
        case 0 -> varint();
        case 1 -> skipBytes(8);
        case 2 -> skipBytes(length());
        case 5 -> skipBytes(4);
        default -> throw new IOException("wire type " + (tag & 7) + " at byte " + position
            + " is not one ONNX uses");
      }
    }
  }
}
