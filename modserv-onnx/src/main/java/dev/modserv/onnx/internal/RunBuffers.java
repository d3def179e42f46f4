package dev.modserv.onnx.internal;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * Direct buffers one run copies its inputs into and has ONNX Runtime write its outputs into, kept
 * for the model's next run. Without them every run allocates a direct buffer per input, and ONNX
 * Runtime's Java binding builds each output's Java tensor through JNI lookups (about 5 µs of a
 * 10 µs run of a tiny model; docs/performance.md). Each buffer grows to the largest tensor of that
 * name seen, up to {@link #MAX_BYTES}; bigger tensors go the allocating way.
 *
 * <p>A buffer set serves one run at a time: runs take one from {@link Pool} and give it back.
 */
final class RunBuffers {
  /** The largest tensor a buffer is kept for: past it, an allocation is small beside the run. */
  static final int MAX_BYTES = 16 << 20;

  private final Map<String, ByteBuffer> inputs = new HashMap<>();
  private final Map<String, ByteBuffer> outputs = new HashMap<>();

  /**
   * An ONNX Runtime tensor over a copy of {@code tensor}'s data in this set's buffer for input
   * {@code name}; null when the tensor is a string tensor, already direct in native order (ONNX
   * Runtime reads it where it is), or over {@link #MAX_BYTES}. The caller closes the result.
   */
  @Nullable OnnxTensor input(OrtEnvironment env, String name, Tensor tensor) throws OrtException {
    DataType type = tensor.dataType();
    if (!type.isFixedSize() || tensor.isDirect()) {
      return null;
    }
    long bytes = (long) tensor.elementCount() * type.byteSize();
    if (bytes > MAX_BYTES) {
      return null;
    }
    ByteBuffer buffer = buffer(inputs, name, (int) bytes);
    switch (type) {
      case FP32 -> buffer.asFloatBuffer().put(tensor.floatBuffer());
      case FP64 -> buffer.asDoubleBuffer().put(tensor.doubleBuffer());
      case INT32 -> buffer.asIntBuffer().put(tensor.intBuffer());
      case INT64 -> buffer.asLongBuffer().put(tensor.longBuffer());
      case INT16, FP16, BF16 -> buffer.asShortBuffer().put(tensor.shortBuffer());
      case INT8, UINT8, BOOL -> buffer.duplicate()
          .put(tensor.hasByteBuffer() ? tensor.byteBuffer() : tensor.toByteBuffer());
      case STRING -> throw new AssertionError("not fixed-size");
    }
    return OnnxTensor.createTensor(env, buffer, tensor.shape(), Tensors.ortType(type));
  }

  /**
   * An ONNX Runtime tensor of {@code shape} over this set's buffer for output {@code name}, for
   * the run to write into; null when it would be over {@link #MAX_BYTES}. Read it with {@link
   * #copyOut} before the buffers go back; the caller closes the tensor.
   */
  @Nullable OnnxTensor output(OrtEnvironment env, String name, DataType type, long[] shape)
      throws OrtException {
    long bytes = type.byteSize();
    for (long dim : shape) {
      if (dim > MAX_BYTES) {
        return null;
      }
      bytes *= dim;   // both at most 2^24 here: no overflow
      if (bytes > MAX_BYTES) {
        return null;
      }
    }
    return OnnxTensor.createTensor(env, buffer(outputs, name, (int) bytes), shape,
        Tensors.ortType(type));
  }

  /** A tensor holding a copy of what the run wrote into output {@code name}'s buffer. */
  Tensor copyOut(String name, DataType type, long[] shape) {
    ByteBuffer written = Objects.requireNonNull(outputs.get(name), name);
    ByteBuffer copy = ByteBuffer.allocate(written.remaining()).order(ByteOrder.nativeOrder());
    copy.put(written.duplicate()).flip();
    return Tensor.wrap(type, copy, shape);
  }

  /** Buffer {@code name} of {@code buffers}, grown to at least {@code bytes}, limited to them. */
  private static ByteBuffer buffer(Map<String, ByteBuffer> buffers, String name, int bytes) {
    ByteBuffer buffer = buffers.get(name);
    if (buffer == null || buffer.capacity() < bytes) {
      // Grown to a power of two (at least 64 bytes), so that a batch growing row by row
      // reallocates a few times, not every run.
      int capacity = Math.max(64, bytes <= 1 ? 1 : Integer.highestOneBit(bytes - 1) << 1);
      buffer = ByteBuffer.allocateDirect(capacity).order(ByteOrder.nativeOrder());
      buffers.put(name, buffer);
    }
    buffer.clear().limit(bytes);
    return buffer;
  }

  /**
   * The buffer sets of one model, one for each run that may go at once; a run that finds none
   * free makes one, which is dropped afterwards if all slots are taken again. Taking and giving
   * back is a compare-and-set per run (per batch, not per request).
   */
  static final class Pool {
    private final AtomicReferenceArray<@Nullable RunBuffers> free;

    Pool(int slots) {
      free = new AtomicReferenceArray<>(Math.max(1, slots));
    }

    RunBuffers take() {
      for (int i = 0; i < free.length(); i++) {
        RunBuffers buffers = free.get(i);
        if (buffers != null && free.compareAndSet(i, buffers, null)) {
          return buffers;
        }
      }
      return new RunBuffers();
    }

    void giveBack(RunBuffers buffers) {
      for (int i = 0; i < free.length(); i++) {
        if (free.get(i) == null && free.compareAndSet(i, null, buffers)) {
          return;
        }
      }
    }

    /** Drops every kept set; the garbage collector frees their memory. */
    void clear() {
      for (int i = 0; i < free.length(); i++) {
        free.set(i, null);
      }
    }
  }
}
