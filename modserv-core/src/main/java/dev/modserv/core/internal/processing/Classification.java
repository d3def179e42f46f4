package dev.modserv.core.internal.processing;

import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The classification extension of the Open Inference Protocol as Triton implements it: the top
 * {@code count} classes of each batch row as strings {@code "<value>:<index>[:<label>]"}, in a
 * STRING tensor of shape [batch, count] ([count] for an output of rank 1). The value is written as
 * C's {@code std::to_string} writes it: six decimals for floating-point outputs, the integer for
 * integer ones.
 */
public final class Classification {
  private Classification() {}

  /**
   * Classifies output {@code name}.
   *
   * @param count the classes wanted per row, at least 1; fewer when the output has fewer
   * @param labels the class names, or null
   * @throws dev.modserv.api.ModelServingException {@code INVALID_INPUT} for a scalar, a non-numeric
   *     output, or labels whose count is not the output's class count
   */
  public static Tensor classify(String name, Tensor t, int count, @Nullable List<String> labels) {
    if (count < 1) {
      throw new IllegalArgumentException("classification count must be >= 1: " + count);
    }
    DataType type = t.dataType();
    if (!Values.numeric(type)) {
      throw Op.invalid("classification: output '" + name + "' is " + type + "; classification"
          + " applies to numeric outputs");
    }
    long[] shape = t.shape();
    if (shape.length == 0) {
      throw Op.invalid("classification: output '" + name + "' is a scalar; it needs a class"
          + " axis");
    }
    int rows = shape.length == 1 ? 1 : (int) shape[0];
    int classes = rows == 0 ? 0 : t.elementCount() / rows;
    if (shape.length > 1 && rows == 0) {
      classes = (int) Arrays.stream(shape).skip(1).reduce(1, (a, b) -> a * b);
    }
    if (labels != null && labels.size() != classes) {
      throw Op.invalid("postprocessing.labels: has " + labels.size() + " labels but output '"
          + name + "' has " + classes + " classes");
    }
    double[] x = Values.doubles(t);
    boolean integral = type != DataType.FP32 && type != DataType.FP64 && type != DataType.FP16
        && type != DataType.BF16;
    int k = Math.min(count, classes);
    String[] out = new String[rows * k];
    for (int r = 0; r < rows; r++) {
      int[] order = order(x, r * classes, classes);
      for (int j = 0; j < k; j++) {
        int c = order[j];
        String s = format(x[r * classes + c], integral) + ":" + c;
        out[r * k + j] = labels == null ? s : s + ":" + labels.get(c);
      }
    }
    return Tensor.of(out, shape.length == 1 ? new long[] {k} : new long[] {rows, k});
  }

  /**
   * The class indices of the row of {@code classes} values at {@code base}, highest value first;
   * ties keep the lower index first, NaN goes last.
   */
  static int[] order(double[] x, int base, int classes) {
    Integer[] order = new Integer[classes];
    for (int c = 0; c < classes; c++) {
      order[c] = c;
    }
    Arrays.sort(order, (a, b) -> Double.compare(nanLow(x[base + b]), nanLow(x[base + a])));
    int[] out = new int[classes];
    for (int c = 0; c < classes; c++) {
      out[c] = order[c];
    }
    return out;
  }

  private static double nanLow(double v) {
    return Double.isNaN(v) ? Double.NEGATIVE_INFINITY : v;
  }

  /** {@code v} as C's {@code std::to_string} writes it ({@code %f} for floating point). */
  static String format(double v, boolean integral) {
    if (integral) {
      return Long.toString((long) v);
    }
    if (Double.isNaN(v)) {
      return "nan";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    String s = new BigDecimal(v).setScale(6, RoundingMode.HALF_EVEN).toPlainString();
    // %f keeps the sign of a negative value that rounds to zero, and of -0.0
    return (v < 0 || (v == 0 && 1 / v < 0)) && !s.startsWith("-") ? "-" + s : s;
  }
}
