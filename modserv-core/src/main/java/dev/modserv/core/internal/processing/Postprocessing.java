package dev.modserv.core.internal.processing;

import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Postprocessing of outputs along their class axis: softmax first, then at most one of argmax,
 * top-k (with threshold dropping lower scores), threshold alone, or classification strings.
 * Built through {@link #of}, which checks that the options go together.
 *
 * @param topK 0 when off
 * @param classification 0 when off; else the count of Triton-style class strings per row
 * @param labels the class names, or null
 * @param outputs the outputs it applies to, or null for every FP32 and FP64 output (every numeric
 *     one for classification)
 */
public record Postprocessing(
    boolean softmax, @Nullable Double threshold, boolean argmax, int topK, int classification,
    @Nullable List<String> labels, @Nullable Set<String> outputs) {

  /** The suffix of the top-k scores output: {@code name + ".scores"}. */
  public static final String SCORES = ".scores";

  /** The suffix of the top-k labels output: {@code name + ".labels"}. */
  public static final String LABELS = ".labels";

  /** Copies the lists. */
  public Postprocessing {
    labels = labels == null ? null : List.copyOf(labels);
    outputs = outputs == null ? null : Set.copyOf(outputs);
  }

  /**
   * Checks and builds postprocessing; {@code path} names it in errors.
   *
   * @throws IllegalArgumentException for options that do not go together
   */
  public static Postprocessing of(boolean softmax, @Nullable Double threshold, boolean argmax,
      int topK, int classification, @Nullable List<String> labels, @Nullable Set<String> outputs,
      String path) {
    int answers = (argmax ? 1 : 0) + (topK > 0 ? 1 : 0) + (classification > 0 ? 1 : 0);
    if (answers > 1) {
      throw new IllegalArgumentException(path + ": give " + (classification > 0
          ? "one of argmax, top_k and classification" : "argmax or top_k") + ", not both");
    }
    if (threshold != null && (argmax || classification > 0)) {
      throw new IllegalArgumentException(path + ": threshold goes alone or with top_k, not with "
          + (argmax ? "argmax" : "classification"));
    }
    if (labels != null && answers == 0) {
      throw new IllegalArgumentException(path + ": labels name the classes of argmax, top_k or"
          + " classification; give one of them");
    }
    return new Postprocessing(softmax, threshold, argmax, topK, classification, labels, outputs);
  }

  /** Whether it changes nothing. */
  public boolean isEmpty() {
    return !softmax && threshold == null && !argmax && topK == 0 && classification == 0;
  }

  /**
   * Returns the outputs postprocessed, in their order; the same map when nothing applies.
   *
   * @throws dev.modserv.api.ModelServingException {@code INVALID_INPUT} naming the option
   */
  public Map<String, Tensor> apply(Map<String, Tensor> given) {
    if (isEmpty()) {
      return given;
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : given.entrySet()) {
      String name = e.getKey();
      Tensor t = e.getValue();
      if (!applies(name, t)) {
        out.put(name, t);
        continue;
      }
      if (topK > 0 && (given.containsKey(name + SCORES)
          || (labels != null && given.containsKey(name + LABELS)))) {
        throw Op.invalid("postprocessing.top_k: output '" + name + "' needs the names '" + name
            + SCORES + "' and '" + name + LABELS + "' for its answer, but the result has an"
            + " output so named; postprocess the other outputs only (outputs)");
      }
      if (classification > 0 && !softmax) {
        out.put(name, Classification.classify(name, t, classification, labels));
        continue;
      }
      render(name, t, out);
    }
    return out;
  }

  private boolean applies(String name, Tensor t) {
    if (outputs != null && !outputs.contains(name)) {
      return false;
    }
    DataType type = t.dataType();
    boolean fits = classification > 0 && !softmax ? Values.numeric(type)
        : type == DataType.FP32 || type == DataType.FP64;
    if (!fits && outputs != null) {
      throw Op.invalid("postprocessing.outputs: output '" + name + "' is " + type
          + "; postprocessing applies to " + (classification > 0 && !softmax ? "numeric"
          : "FP32 and FP64") + " outputs");
    }
    return fits;
  }

  private void render(String name, Tensor t, Map<String, Tensor> out) {
    long[] shape = t.shape();
    if (shape.length == 0) {
      throw Op.invalid("postprocessing: output '" + name + "' is a scalar; it needs a class axis");
    }
    double[] x = Values.doubles(t);
    if (softmax) {
      softmax(x, (int) shape[shape.length - 1]);
    }
    if (classification > 0) {
      out.put(name, Classification.classify(name, Values.floating(t.dataType(), x, shape),
          classification, labels));
      return;
    }
    int classes = (int) shape[shape.length - 1];
    int rows = classes == 0 ? 0 : x.length / classes;
    List<String> names = labels;
    if (names != null && names.size() != classes && (argmax || topK > 0)) {
      throw Op.invalid("postprocessing.labels: has " + names.size() + " labels but output '"
          + name + "' has " + classes + " classes");
    }
    long[] rowShape = Arrays.copyOf(shape, shape.length - 1);
    if (argmax) {
      out.put(name, argmax(x, rows, classes, names, rowShape));
      return;
    }
    if (topK > 0) {
      topK(name, t.dataType(), x, rows, classes, rowShape, out);
      return;
    }
    if (threshold != null) {
      double th = threshold;
      boolean[] over = new boolean[x.length];
      for (int i = 0; i < x.length; i++) {
        over[i] = x[i] >= th;
      }
      out.put(name, Tensor.of(over, shape));
      return;
    }
    out.put(name, Values.floating(t.dataType(), x, shape));
  }

  /** Softmax along the last axis, in place. */
  private static void softmax(double[] x, int classes) {
    int rows = classes == 0 ? 0 : x.length / classes;
    for (int r = 0; r < rows; r++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        max = Math.max(max, x[r * classes + c]);
      }
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        double v = Math.exp(x[r * classes + c] - max);
        x[r * classes + c] = v;
        sum += v;
      }
      for (int c = 0; c < classes; c++) {
        x[r * classes + c] /= sum;
      }
    }
  }

  /** Each row's best class: its index (INT64), or its label when labels are given. */
  private static Tensor argmax(double[] x, int rows, int classes, @Nullable List<String> names,
      long[] rowShape) {
    long[] best = new long[rows];
    for (int r = 0; r < rows; r++) {
      int b = 0;
      for (int c = 1; c < classes; c++) {
        if (x[r * classes + c] > x[r * classes + b]) {
          b = c;
        }
      }
      best[r] = b;
    }
    if (names == null) {
      return Tensor.of(best, rowShape);
    }
    String[] named = new String[rows];
    for (int r = 0; r < rows; r++) {
      named[r] = names.get((int) best[r]);
    }
    return Tensor.of(named, rowShape);
  }

  /**
   * Top-k as three tensors of shape [rows..., k]: the class indices (INT64) under the output's
   * name, their scores under {@code name.scores}, their labels under {@code name.labels} when
   * labels are given. Where threshold drops classes of a row, its places hold index -1, score NaN
   * and label "".
   */
  private void topK(String name, DataType type, double[] x, int rows, int classes,
      long[] rowShape, Map<String, Tensor> out) {
    int k = Math.min(topK, classes);
    long[] index = new long[rows * k];
    double[] score = new double[rows * k];
    String[] label = labels == null ? null : new String[rows * k];
    for (int r = 0; r < rows; r++) {
      int[] order = Classification.order(x, r * classes, classes);
      for (int j = 0; j < k; j++) {
        int c = order[j];
        double s = x[r * classes + c];
        boolean kept = threshold == null || s >= threshold;
        index[r * k + j] = kept ? c : -1;
        score[r * k + j] = kept ? s : Double.NaN;
        if (label != null && labels != null) {
          label[r * k + j] = kept ? labels.get(c) : "";
        }
      }
    }
    long[] shape = Arrays.copyOf(rowShape, rowShape.length + 1);
    shape[rowShape.length] = k;
    out.put(name, Tensor.of(index, shape));
    out.put(name + SCORES, Values.floating(type, score, shape));
    if (label != null) {
      out.put(name + LABELS, Tensor.of(label, shape));
    }
  }
}
