package dev.modserv.onnx.internal;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * Direct buffers one run copies its inputs into and has ONNX Runtime write its outputs into, and
 * the ONNX Runtime tensors over them, kept for the model's next run. Without them every run
 * allocates a direct buffer per input, and ONNX Runtime's Java binding builds each output's Java
 * tensor through JNI lookups (about 5 µs of a 10 µs run of a tiny model; docs/performance.md).
 * Each buffer grows to the largest tensor of that name seen, up to {@link #MAX_BYTES}; bigger
 * tensors go the allocating way.
 *
 * <p>A set serves one run at a time: runs take one from {@link Pool} and give it back. Its tensors
 * are native values: a set is closed when the pool has no room for it, and the pool once the model
 * has no run in progress ({@link OnnxModel#close()}).
 */
final class RunBuffers implements AutoCloseable {
  /**
   * The largest tensor a buffer is kept for: past it, an allocation is small beside the run, and
   * a set stays within a mebibyte a name however large the batches.
   */
  static final int MAX_BYTES = 1 << 20;

  private final Map<String, Kept> inputs = new HashMap<>();
  private final Map<String, Kept> outputs = new HashMap<>();

  /**
   * A direct buffer and the ONNX Runtime tensor over it for the last shape a run gave it: the next
   * run of the same shape (every run, at one request at a time) reuses both.
   */
  private static final class Kept {
    final ByteBuffer buffer;
    @Nullable OnnxTensor tensor;
    long[] shape = new long[0];

    Kept(int capacity) {
      buffer = ByteBuffer.allocateDirect(capacity).order(ByteOrder.nativeOrder());
    }

    OnnxTensor tensor(OrtEnvironment env, DataType type, long[] shape) throws OrtException {
      OnnxTensor t = tensor;
      if (t != null && Arrays.equals(this.shape, shape)) {
        return t;
      }
      close();
      t = OnnxTensor.createTensor(env, buffer, shape, Tensors.ortType(type));
      tensor = t;
      this.shape = shape.clone();
      return t;
    }

    void close() {
      OnnxTensor t = tensor;
      tensor = null;
      if (t != null) {
        t.close();
      }
    }
  }

  /**
   * An ONNX Runtime tensor over a copy of {@code tensor}'s data in this set's buffer for input
   * {@code name}; null when the tensor is a string tensor, already direct (ONNX Runtime reads it
   * where it is), or over {@link #MAX_BYTES}. This set owns the result: the caller does not close
   * it.
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
    Kept kept = kept(inputs, name, (int) bytes);
    ByteBuffer buffer = kept.buffer;
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
    return kept.tensor(env, type, tensor.shape());
  }

  /**
   * An ONNX Runtime tensor of {@code shape} over this set's buffer for output {@code name}, for
   * the run to write into; null when it would be over {@link #MAX_BYTES}. Read it with {@link
   * #copyOut} before the buffers go back. This set owns the result: the caller does not close it.
   */
  @Nullable OnnxTensor output(OrtEnvironment env, String name, DataType type, long[] shape)
      throws OrtException {
    long bytes = type.byteSize();
    for (long dim : shape) {
      if (dim > MAX_BYTES) {
        return null;
      }
      bytes *= dim;   // both at most 2^20 here: no overflow
      if (bytes > MAX_BYTES) {
        return null;
      }
    }
    return kept(outputs, name, (int) bytes).tensor(env, type, shape);
  }

  /** A tensor holding a copy of what the run wrote into output {@code name}'s buffer. */
  Tensor copyOut(String name, DataType type, long[] shape) {
    ByteBuffer written = Objects.requireNonNull(outputs.get(name), name).buffer;
    ByteBuffer copy = ByteBuffer.allocate(written.remaining()).order(ByteOrder.nativeOrder());
    copy.put(written.duplicate()).flip();
    return Tensor.wrap(type, copy, shape);
  }

  /** The kept buffer {@code name} of {@code kept}, grown to at least {@code bytes}, limited to them. */
  private static Kept kept(Map<String, Kept> kept, String name, int bytes) {
    Kept k = kept.get(name);
    if (k == null || k.buffer.capacity() < bytes) {
      if (k != null) {
        k.close();
      }
      // Grown to a power of two (at least 64 bytes), so that a batch growing row by row
      // reallocates a few times, not every run.
      k = new Kept(Math.max(64, bytes <= 1 ? 1 : Integer.highestOneBit(bytes - 1) << 1));
      kept.put(name, k);
    }
    k.buffer.clear().limit(bytes);
    return k;
  }

  /** Closes the tensors this set keeps; its buffers the garbage collector frees. */
  @Override
  public void close() {
    inputs.values().forEach(Kept::close);
    outputs.values().forEach(Kept::close);
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

    /** Keeps {@code buffers} for a later run, or closes them when every slot is taken. */
    void giveBack(RunBuffers buffers) {
      for (int i = 0; i < free.length(); i++) {
        if (free.get(i) == null && free.compareAndSet(i, null, buffers)) {
          return;
        }
      }
      buffers.close();
    }

    /** Closes every kept set; called once no run is in progress or can start. */
    void close() {
      for (int i = 0; i < free.length(); i++) {
        RunBuffers buffers = free.getAndSet(i, null);
        if (buffers != null) {
          buffers.close();
        }
      }
    }
  }
}
