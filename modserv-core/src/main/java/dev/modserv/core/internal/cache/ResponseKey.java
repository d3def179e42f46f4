package dev.modserv.core.internal.cache;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.Tensor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * What identifies one answer in the {@link ResponseCache}: the model, the exact version and load
 * that serves the request, and the request's content (each input's name, data type, shape and
 * bytes, the requested outputs and the request parameters) as one canonical byte string, copied
 * from the request. Inputs, outputs and parameters are taken in name order, so that the order a
 * caller added them in does not matter; every variable-length part is length-prefixed, so that two
 * different requests never write the same bytes.
 *
 * <p>{@link #hashCode()} comes from a SHA-256 of the content, computed once; {@link #equals}
 * compares the digest first and then the full content, so a hash collision can never serve another
 * request's answer.
 */
final class ResponseKey {
  private final String model;
  private final long version;
  private final long load;
  private final byte[] content;
  private final byte[] digest;
  private final int hash;

  private ResponseKey(String model, long version, long load, byte[] content) {
    this.model = model;
    this.version = version;
    this.load = load;
    this.content = content;
    this.digest = sha256(content);
    this.hash = 31 * (31 * model.hashCode() + Long.hashCode(load)) + ByteBuffer.wrap(digest)
        .getInt();
  }

  /** The key of {@code request} to {@code model} version {@code version}, load {@code load}. */
  static ResponseKey of(String model, long version, long load, InferenceRequest request) {
    Parts parts = new Parts();
    Map<String, Tensor> inputs = new TreeMap<>(request.inputs());
    parts.count(inputs.size());
    inputs.forEach((name, tensor) -> {
      parts.text(name);
      parts.count(tensor.dataType().ordinal());
      long[] shape = tensor.shape();
      parts.count(shape.length);
      for (long dim : shape) {
        parts.number(dim);
      }
      if (tensor.dataType().isFixedSize()) {
        ByteBuffer bytes = tensor.toByteBuffer();
        parts.number(bytes.remaining());
        parts.add(bytes);
      } else {
        for (String s : tensor.strings()) {
          parts.text(s);
        }
      }
    });
    TreeSet<String> outputs = new TreeSet<>(request.outputs());
    parts.count(outputs.size());
    outputs.forEach(parts::text);
    Map<String, String> parameters = new TreeMap<>(request.parameters());
    parts.count(parameters.size());
    parameters.forEach((k, v) -> {
      parts.text(k);
      parts.text(v);
    });
    return new ResponseKey(model, version, load, parts.join());
  }

  String model() {
    return model;
  }

  long version() {
    return version;
  }

  long load() {
    return load;
  }

  /** The bytes this key holds. */
  int bytes() {
    return content.length + digest.length + 2 * model.length();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof ResponseKey k && hash == k.hash && load == k.load
        && version == k.version && model.equals(k.model) && Arrays.equals(digest, k.digest)
        && Arrays.equals(content, k.content);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return "ResponseKey['" + model + "' version " + version + " load " + load + ", "
        + content.length + " bytes]";
  }

  private static byte[] sha256(byte[] content) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(content);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** The pieces of a key's content, joined into one array once their length is known. */
  private static final class Parts {
    private final List<ByteBuffer> pieces = new ArrayList<>();
    private long length;

    void add(ByteBuffer piece) {
      pieces.add(piece);
      length += piece.remaining();
    }

    void number(long value) {
      add(ByteBuffer.allocate(Long.BYTES).putLong(0, value));
    }

    void count(int value) {
      add(ByteBuffer.allocate(Integer.BYTES).putInt(0, value));
    }

    void text(String s) {
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      count(utf8.length);
      add(ByteBuffer.wrap(utf8));
    }

    byte[] join() {
      if (length > Integer.MAX_VALUE - 16) {
        throw new IllegalArgumentException("a request of " + length
            + " bytes is too large to cache; turn the response cache off for this model");
      }
      byte[] out = new byte[(int) length];
      int at = 0;
      for (ByteBuffer piece : pieces) {
        int n = piece.remaining();
        piece.duplicate().get(out, at, n);
        at += n;
      }
      return out;
    }
  }
}
