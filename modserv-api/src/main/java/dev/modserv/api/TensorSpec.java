package dev.modserv.api;

import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The name, data type and shape of one model input or output. A dimension of {@code -1} is dynamic
 * (any size, such as the batch dimension); a shape of {@code null} rank is not allowed: a model
 * whose rank is unknown reports none of its dimensions and {@link #isRankKnown()} is false.
 */
public final class TensorSpec {
  private static final long[] UNKNOWN_RANK = new long[0];

  private final String name;
  private final DataType dataType;
  private final long[] shape;
  private final boolean rankKnown;

  private TensorSpec(String name, DataType dataType, long[] shape, boolean rankKnown) {
    this.name = name;
    this.dataType = dataType;
    this.shape = shape;
    this.rankKnown = rankKnown;
  }

  /**
   * Returns a spec with the given shape, where {@code -1} marks a dynamic dimension.
   *
   * @throws IllegalArgumentException for an empty name or a dimension below {@code -1}
   */
  public static TensorSpec of(String name, DataType dataType, long... shape) {
    requireName(name);
    Objects.requireNonNull(dataType, "dataType");
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < -1) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': dimension " + i + " is " + shape[i]
                + "; use -1 for a dynamic dimension");
      }
    }
    return new TensorSpec(name, dataType, shape.clone(), true);
  }

  /** Returns a spec whose rank (and so every dimension) is unknown. */
  public static TensorSpec ofUnknownRank(String name, DataType dataType) {
    requireName(name);
    return new TensorSpec(name, dataType, UNKNOWN_RANK, false);
  }

  private static void requireName(String name) {
    if (name.isEmpty()) {
      throw new IllegalArgumentException("a tensor name must not be empty");
    }
  }

  /** Returns the tensor's name. */
  public String name() {
    return name;
  }

  /** Returns the element type. */
  public DataType dataType() {
    return dataType;
  }

  /** Returns a copy of the shape, {@code -1} for dynamic dimensions; empty when rank is unknown. */
  public long[] shape() {
    return shape.clone();
  }

  /** Returns whether the rank is known; when false, {@link #shape()} is empty and means nothing. */
  public boolean isRankKnown() {
    return rankKnown;
  }

  /** Returns the rank; only meaningful when {@link #isRankKnown()}. */
  public int rank() {
    return shape.length;
  }

  /** Returns dimension {@code index}, {@code -1} when dynamic. */
  public long dim(int index) {
    return shape[index];
  }

  /** Returns whether the first dimension is dynamic, as a batch dimension is. */
  public boolean hasDynamicFirstDimension() {
    return rankKnown && shape.length > 0 && shape[0] == -1;
  }

  /**
   * Checks that {@code tensor} fits this spec: the same data type and, when the rank is known, the
   * same rank and every fixed dimension. Every engine and the server run this same check, so a
   * misfit reads the same wherever it is caught.
   *
   * @throws ModelServingException with {@link ErrorCode#INVALID_INPUT} naming the input, what was
   *     expected and what came, e.g. {@code input 'x': expected shape [-1, 4], got [1, 3]}
   */
  public void requireAccepts(Tensor tensor) {
    if (tensor.dataType() != dataType) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT,
          "input '" + name + "': expected " + dataType + ", got " + tensor.dataType());
    }
    if (rankKnown && !fits(tensor.shape())) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT, "input '" + name
          + "': expected shape " + Arrays.toString(shape) + ", got "
          + Arrays.toString(tensor.shape()));
    }
  }

  private boolean fits(long[] actual) {
    if (actual.length != shape.length) {
      return false;
    }
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] != -1 && shape[i] != actual[i]) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof TensorSpec other
        && name.equals(other.name)
        && dataType == other.dataType
        && rankKnown == other.rankKnown
        && Arrays.equals(shape, other.shape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dataType, rankKnown, Arrays.hashCode(shape));
  }

  @Override
  public String toString() {
    return name + ": " + dataType + (rankKnown ? Arrays.toString(shape) : "[?]");
  }
}
