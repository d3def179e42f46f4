package dev.modserv.grpc;

import com.google.protobuf.CodedOutputStream;
import dev.modserv.api.DataType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a small ONNX model for the tests: for each type, an input {@code in_<type>} of shape
 * {@code [batch, 2]} passed through an Identity node to {@code out_<type>} (opset 13, IR version 7,
 * as modserv-onnx's fixtures). Written with protobuf's encoder field by field from onnx.proto's
 * numbers, so the tests need no Python to make it.
 */
final class OnnxIdentityModel {
  private OnnxIdentityModel() {}

  /** onnx.proto's TensorProto.DataType number of {@code type}. */
  private static int onnxType(DataType type) {
    return switch (type) {
      case FP32 -> 1;
      case UINT8 -> 2;
      case INT8 -> 3;
      case INT16 -> 5;
      case INT32 -> 6;
      case INT64 -> 7;
      case STRING -> 8;
      case BOOL -> 9;
      case FP16 -> 10;
      case FP64 -> 11;
      case BF16 -> 16;
    };
  }

  /** The name part of a type's tensors: {@code fp32}, ..., {@code string}. */
  static String part(DataType type) {
    return type.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Writes the model for {@code types} to {@code file}. */
  static Path write(Path file, List<DataType> types) {
    byte[] graph = message(g -> {
      for (DataType t : types) {
        g.writeByteArray(1, message(n -> { // NodeProto
          n.writeString(1, "in_" + part(t));
          n.writeString(2, "out_" + part(t));
          n.writeString(3, "identity_" + part(t));
          n.writeString(4, "Identity");
        }));
      }
      g.writeString(2, "identities");
      for (DataType t : types) {
        g.writeByteArray(11, valueInfo("in_" + part(t), t));
      }
      for (DataType t : types) {
        g.writeByteArray(12, valueInfo("out_" + part(t), t));
      }
    });
    byte[] model = message(m -> {
      m.writeInt64(1, 7); // ir_version
      m.writeString(2, "modserv-tests"); // producer_name
      m.writeByteArray(7, graph);
      m.writeByteArray(8, message(o -> { // opset_import
        o.writeString(1, "");
        o.writeInt64(2, 13);
      }));
    });
    try {
      Files.write(file, model);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** ValueInfoProto: a tensor of {@code type} and shape {@code [batch, 2]}. */
  private static byte[] valueInfo(String name, DataType type) {
    return message(v -> {
      v.writeString(1, name);
      v.writeByteArray(2, message(tp -> // TypeProto
          tp.writeByteArray(1, message(tt -> { // TypeProto.Tensor
            tt.writeInt32(1, onnxType(type));
            tt.writeByteArray(2, message(shape -> { // TensorShapeProto
              shape.writeByteArray(1, message(d -> d.writeString(2, "batch")));
              shape.writeByteArray(1, message(d -> d.writeInt64(1, 2)));
            }));
          }))));
    });
  }

  private interface Fields {
    void write(CodedOutputStream out) throws IOException;
  }

  private static byte[] message(Fields fields) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      fields.write(out);
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
