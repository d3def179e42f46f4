package dev.modserv.api;

/**
 * The element type of a {@link Tensor}. Names follow the Open Inference Protocol's data types
 * (KServe v2), so that a REST translator maps them one to one.
 */
public enum DataType {
  /** 32-bit IEEE float. */
  FP32(4),
  /** 64-bit IEEE float. */
  FP64(8),
  /** 16-bit IEEE half float, held as its raw bits in a {@code short}. */
  FP16(2),
  /** bfloat16, held as its raw bits in a {@code short}. */
  BF16(2),
  /** Signed 8-bit integer. */
  INT8(1),
  /** Signed 16-bit integer. */
  INT16(2),
  /** Signed 32-bit integer. */
  INT32(4),
  /** Signed 64-bit integer. */
  INT64(8),
  /** Unsigned 8-bit integer, held in a {@code byte} (read with {@code Byte.toUnsignedInt}). */
  UINT8(1),
  /** Boolean, one byte per element: 0 is false, anything else true. */
  BOOL(1),
  /** Variable-length UTF-8 strings (byte strings in ONNX and TensorFlow). */
  STRING(-1);

  private final int byteSize;

  DataType(int byteSize) {
    this.byteSize = byteSize;
  }

  /**
   * Returns the size of one element in bytes, or {@code -1} for {@link #STRING}, whose elements
   * have no fixed size.
   */
  public int byteSize() {
    return byteSize;
  }

  /** Returns whether elements have a fixed size (everything but {@link #STRING}). */
  public boolean isFixedSize() {
    return byteSize > 0;
  }
}
