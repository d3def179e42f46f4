package dev.modserv.core.internal.processing;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/** One preprocessing operation over a tensor's elements, in place. */
public sealed interface Op permits Op.Scale, Op.Divide, Op.Normalize, Op.Standardize {
  /** Applies the operation to the elements {@code x} of input {@code input}, of {@code shape}. */
  void apply(double[] x, long[] shape, String input);

  /** x * factor. */
  record Scale(double factor) implements Op {
    @Override
    public void apply(double[] x, long[] shape, String input) {
      for (int i = 0; i < x.length; i++) {
        x[i] *= factor;
      }
    }
  }

  /** x / divisor: the camelCase form's {@code scale} (with {@code normalize: true}). */
  record Divide(double divisor) implements Op {
    @Override
    public void apply(double[] x, long[] shape, String input) {
      for (int i = 0; i < x.length; i++) {
        x[i] /= divisor;
      }
    }
  }

  /** (x - min) / (max - min). */
  record Normalize(double min, double max) implements Op {
    @Override
    public void apply(double[] x, long[] shape, String input) {
      double range = max - min;
      for (int i = 0; i < x.length; i++) {
        x[i] = (x[i] - min) / range;
      }
    }
  }

  /**
   * (x - mean[c]) / std[c], c the index along {@code axis} (negative counts from the end); one
   * value applies to every channel. Built through {@link #of}, which checks the values.
   */
  record Standardize(double[] mean, double[] std, int axis) implements Op {
    /**
     * Checks and builds it.
     *
     * @throws IllegalArgumentException naming {@code path}
     */
    public static Standardize of(double[] mean, double[] std, int axis, String path) {
      if (mean.length == 0 || std.length == 0) {
        throw new IllegalArgumentException(path + ": mean and std must not be empty");
      }
      if (mean.length != 1 && std.length != 1 && mean.length != std.length) {
        throw new IllegalArgumentException(path + ": mean has " + mean.length + " values and std "
            + std.length + "; give one per channel (or one for all)");
      }
      for (double m : mean) {
        if (!Double.isFinite(m)) {
          throw new IllegalArgumentException(path + ": mean values must be finite, got " + m);
        }
      }
      for (double s : std) {
        if (!(s > 0) || !Double.isFinite(s)) {
          throw new IllegalArgumentException(path + ": std values must be > 0, got " + s);
        }
      }
      return new Standardize(mean.clone(), std.clone(), axis);
    }

    @Override
    public void apply(double[] x, long[] shape, String input) {
      int rank = shape.length;
      int a = axis < 0 ? rank + axis : axis;
      if (a < 0 || a >= rank) {
        throw invalid("preprocessing: standardize axis " + axis + " is outside input '" + input
            + "''s " + rank + " dimensions " + Arrays.toString(shape));
      }
      long channels = shape[a];
      int n = Math.max(mean.length, std.length);
      if (n != 1 && n != channels) {
        throw invalid("preprocessing: standardize has " + n + " channel values but input '"
            + input + "' has " + channels + " channels along axis " + a + " of "
            + Arrays.toString(shape));
      }
      long inner = 1;
      for (int d = a + 1; d < rank; d++) {
        inner *= shape[d];
      }
      for (int i = 0; i < x.length; i++) {
        int c = (int) ((i / inner) % channels);
        double m = mean.length == 1 ? mean[0] : mean[c];
        double s = std.length == 1 ? std[0] : std[c];
        x[i] = (x[i] - m) / s;
      }
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Standardize s && Arrays.equals(mean, s.mean)
          && Arrays.equals(std, s.std) && axis == s.axis;
    }

    @Override
    public int hashCode() {
      return 31 * (31 * Arrays.hashCode(mean) + Arrays.hashCode(std)) + axis;
    }

    @Override
    public String toString() {
      return "Standardize[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std)
          + ", axis=" + axis + "]";
    }
  }

  /** An {@code INVALID_INPUT} refusal. */
  static ModelServingException invalid(String message) {
    return new ModelServingException(ErrorCode.INVALID_INPUT, message);
  }
}
