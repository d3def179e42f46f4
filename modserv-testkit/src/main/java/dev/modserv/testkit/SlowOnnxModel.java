package dev.modserv.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes an ONNX model whose run time the request chooses, for tests of deadlines and engine
 * cancellation: FP32 {@code x [1, width]} is tiled to {@code rows[0]} rows (INT64 {@code rows
 * [1]}), then multiplied by a {@code width × width} matrix {@code nodes} times in a chain, giving
 * FP32 {@code y [rows, width]}. Each link is one graph node, and ONNX Runtime checks its terminate
 * flag between nodes, so a terminated run stops within one link. The matrix averages a row, so
 * every value of {@code y} is the mean of {@code x} (and a run of zero rows, as a warm-up sends,
 * gives an empty {@code y}). Written by hand in protobuf's wire format: no ONNX library needed.
 *
 * <pre>{@code
 * Path model = SlowOnnxModel.write(dir.resolve("slow.onnx"), 256, 100);
 * }</pre>
 */
public final class SlowOnnxModel {
  private static final int FLOAT = 1;
  private static final int INT64 = 7;

  private SlowOnnxModel() {}

  /**
   * Writes the model to {@code file} and returns it.
   *
   * @param width the length of a row and the side of the matrix
   * @param nodes how many matrix products the chain has, at least 1
   */
  public static Path write(Path file, int width, int nodes) throws IOException {
    if (width < 1 || nodes < 1) {
      throw new IllegalArgumentException("width and nodes must be >= 1: " + width + ", " + nodes);
    }
    Proto graph = new Proto();
    graph.message(1, node("Concat", new String[] {"rows", "one"}, "repeats")
        .message(5, new Proto().string(1, "axis").varint(3, 0).varint(20, 2)));  // INT attribute
    graph.message(1, node("Tile", new String[] {"x", "repeats"}, "h0"));
    for (int i = 1; i <= nodes; i++) {
      String out = i == nodes ? "y" : "h" + i;
      graph.message(1, node("MatMul", new String[] {"h" + (i - 1), "w"}, out));
    }
    graph.string(2, "slow");
    ByteBuffer w = ByteBuffer.allocate(4 * width * width).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < width * width; i++) {
      w.putFloat(1f / width);
    }
    graph.message(5, new Proto().varint(1, width).varint(1, width).varint(2, FLOAT)
        .string(8, "w").bytes(9, w.array()));
    graph.message(5, new Proto().varint(1, 1).varint(2, INT64).string(8, "one")
        .bytes(9, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1).array()));
    graph.message(11, value("x", FLOAT, 1, width));
    graph.message(11, value("rows", INT64, 1));
    graph.message(12, value("y", FLOAT, -1, width));
    Proto model = new Proto().varint(1, 7)                     // IR version 7
        .string(3, "modserv-testkit")                            // producer
        .message(7, graph)
        .message(8, new Proto().varint(2, 13));                  // opset 13, default domain
    Files.write(file, model.toByteArray());
    return file;
  }

  private static Proto node(String op, String[] inputs, String output) {
    Proto node = new Proto();
    for (String in : inputs) {
      node.string(1, in);
    }
    return node.string(2, output).string(3, output + "_" + op).string(4, op);
  }

  /** A tensor value's name, type and shape; -1 is a dynamic dimension. */
  private static Proto value(String name, int elementType, long... dims) {
    Proto shape = new Proto();
    for (long d : dims) {
      shape.message(1, d < 0 ? new Proto().string(2, "n") : new Proto().varint(1, d));
    }
    Proto tensor = new Proto().varint(1, elementType).message(2, shape);
    return new Proto().string(1, name).message(2, new Proto().message(1, tensor));
  }

  /** A protobuf message in the making: fields in wire format, in the order written. */
  private static final class Proto {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Proto varint(int field, long value) {
      raw((long) field << 3);
      raw(value);
      return this;
    }

    Proto bytes(int field, byte[] value) {
      raw((long) field << 3 | 2);
      raw(value.length);
      out.writeBytes(value);
      return this;
    }

    Proto string(int field, String value) {
      return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    Proto message(int field, Proto value) {
      return bytes(field, value.toByteArray());
    }

    byte[] toByteArray() {
      return out.toByteArray();
    }

    private void raw(long value) {
      long v = value;
      while ((v & ~0x7FL) != 0) {
        out.write((int) (v & 0x7F) | 0x80);
        v >>>= 7;
      }
      out.write((int) v);
    }
  }
}
