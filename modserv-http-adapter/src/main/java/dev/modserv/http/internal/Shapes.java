package dev.modserv.http.internal;

import dev.modserv.api.DataType;
import java.util.Arrays;

/**
 * Tensor shapes from clients, checked once with overflow-safe arithmetic: no negative dimension,
 * at most {@value #MAX_RANK} dimensions, and an element and byte count a tensor can hold (at most
 * {@link Integer#MAX_VALUE} of each); else 400 naming the input. A shape such as {@code
 * [1000000000000, 1000000000000]} or one near 2^62 whose byte count would wrap is refused here,
 * before anything multiplies it.
 */
public final class Shapes {
  /** The most dimensions a tensor from a client may have. */
  public static final int MAX_RANK = 64;

  private Shapes() {}

  /**
   * Returns how many elements {@code shape} holds, for a tensor of {@code type} at {@code path}.
   *
   * @throws HttpError 400 naming {@code path} when the shape is negative, too deep or too large
   */
  public static int elements(String path, DataType type, long[] shape) {
    if (shape.length > MAX_RANK) {
      throw HttpError.badField(path, "a shape has at most " + MAX_RANK + " dimensions, got "
          + shape.length);
    }
    boolean empty = false;
    for (long d : shape) {
      if (d < 0) {
        throw HttpError.badField(path, "shape dimensions must be >= 0: " + show(shape));
      }
      empty |= d == 0;
    }
    // Multiplied with overflow checks; a zero anywhere makes an empty tensor, however large the
    // other dimensions.
    if (empty) {
      return 0;
    }
    long count = 1;
    long bytes;
    try {
      for (long d : shape) {
        count = Math.multiplyExact(count, d);
      }
      bytes = type.isFixedSize() ? Math.multiplyExact(count, (long) type.byteSize()) : count;
    } catch (ArithmeticException overflow) {
      count = Long.MAX_VALUE;
      bytes = Long.MAX_VALUE;
    }
    if (count > Integer.MAX_VALUE || bytes > Integer.MAX_VALUE) {
      throw HttpError.badField(path, "shape " + show(shape) + " is too large: a tensor holds at"
          + " most " + Integer.MAX_VALUE + " elements and bytes");
    }
    return (int) count;
  }

  /** Returns {@code shape} as text for an error message, cut as {@link ClientText} cuts. */
  public static String show(long[] shape) {
    return ClientText.echo(Arrays.toString(shape));
  }
}
