package dev.modserv.http.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.DataType;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Pre- and post-processing of the native API, per request ({@code preprocessing}, {@code
 * postprocessing} objects) or configured per model ({@code HttpAdapter.Builder.processing}).
 *
 * <p>Preprocessing changes FP32 and FP64 inputs before they are queued, its operations applied in
 * the order given: {@code scale} (x * f), {@code normalize} ((x - min) / (max - min)), {@code
 * standardize} ((x - mean[c]) / std[c] along a channel axis, the last by default; the keys {@code
 * mean} and {@code std} are a shorthand for it). Postprocessing renders FP32 and FP64 outputs along
 * their last axis (the classes): {@code softmax}, then at most one of {@code argmax}, {@code top_k}
 * (with {@code threshold} dropping lower scores) or {@code threshold} alone (a BOOL tensor);
 * {@code labels} or {@code labels_file} name the classes for argmax and top-k.
 */
public final class Processing {
  private Processing() {}

  /** One preprocessing operation over a tensor's elements, in place. */
  public sealed interface Op permits Scale, Normalize, Standardize {
    /** Applies the operation to {@code x}, of {@code shape}, in place. */
    void apply(double[] x, long[] shape, String path);
  }

  /** x * factor. */
  public record Scale(double factor) implements Op {
    @Override
    public void apply(double[] x, long[] shape, String path) {
      for (int i = 0; i < x.length; i++) {
        x[i] *= factor;
      }
    }
  }

  /** (x - min) / (max - min). */
  public record Normalize(double min, double max) implements Op {
    @Override
    public void apply(double[] x, long[] shape, String path) {
      double range = max - min;
      for (int i = 0; i < x.length; i++) {
        x[i] = (x[i] - min) / range;
      }
    }
  }

  /** (x - mean[c]) / std[c], c the index along {@code axis} (negative counts from the end). */
  public record Standardize(double[] mean, double[] std, int axis) implements Op {
    @Override
    public void apply(double[] x, long[] shape, String path) {
      int rank = shape.length;
      int a = axis < 0 ? rank + axis : axis;
      if (a < 0 || a >= rank) {
        throw HttpError.badField(path, "standardize axis " + axis + " is outside the input's "
            + rank + " dimensions " + Arrays.toString(shape));
      }
      long channels = shape[a];
      int n = Math.max(mean.length, std.length);
      if (n != 1 && n != channels) {
        throw HttpError.badField(path, "standardize has " + n + " channel values but the input"
            + " has " + channels + " channels along axis " + a + " of " + Arrays.toString(shape));
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
  }

  /**
   * Preprocessing: the operations in order and the inputs they apply to (null: every FP32/FP64
   * input).
   */
  public record Pre(List<Op> ops, @Nullable Set<String> inputs) {}

  /**
   * Postprocessing of FP32/FP64 outputs (all, or those named in {@code outputs}).
   *
   * @param topK 0 when off
   * @param labels the class names, or null
   * @param labelsFile a labels file inside the model root to read when the request runs, or null
   */
  public record Post(
      boolean softmax, @Nullable Double threshold, boolean argmax, int topK,
      @Nullable List<String> labels, @Nullable String labelsFile,
      @Nullable Set<String> outputs) {}

  /** What is configured for one model. */
  public record Spec(@Nullable Pre pre, @Nullable Post post) {}

  /** The processing and timings of one request. */
  public static final class Plan {
    public @Nullable Pre pre;
    public @Nullable Post post;
    long preNanos;
    long submittedNanos;
    long inferNanos;
    long postNanos;

    public Plan(@Nullable Pre pre, @Nullable Post post) {
      this.pre = pre;
      this.post = post;
    }

    /** Takes the model's configured processing where the request gave none. */
    public void resolve(Settings settings, String model, String prefix) {
      Spec configured = settings.extras().processing().get(model);
      if (configured != null) {
        if (pre == null) {
          pre = configured.pre();
        }
        if (post == null) {
          post = configured.post();
        }
      }
      Post p = post;
      if (p != null && p.labelsFile() != null) {
        post = new Post(p.softmax(), p.threshold(), p.argmax(), p.topK(),
            readLabels(settings, p.labelsFile(), prefix + "postprocessing.labels_file"), null,
            p.outputs());
      }
    }

    /** Applies preprocessing to input {@code name} (timed). */
    public Tensor input(String name, Tensor t, String path) {
      Pre p = pre;
      if (p == null || p.ops().isEmpty() || (p.inputs() != null && !p.inputs().contains(name))) {
        return t;
      }
      long start = System.nanoTime();
      try {
        return preprocess(p, t, path);
      } finally {
        preNanos += System.nanoTime() - start;
      }
    }

    /** Marks the model call's start. */
    public void submitted() {
      submittedNanos = System.nanoTime();
    }

    /** Marks the model call's end. */
    public void inferred() {
      inferNanos = System.nanoTime() - submittedNanos;
    }

    /** Whether outputs need rendering. */
    public boolean hasPost() {
      return post != null;
    }

    /**
     * Writes the outputs as the native API does (one output: its value; several: an object by
     * name), postprocessed when asked (timed).
     */
    public void writeOutputs(JsonGenerator g, InferenceResult result) throws IOException {
      long start = System.nanoTime();
      Map<String, Tensor> outputs = result.outputs();
      // Render first, so that a refusal is not half written.
      List<Object> rendered = new ArrayList<>(outputs.size());
      for (var e : outputs.entrySet()) {
        rendered.add(render(e.getKey(), e.getValue()));
      }
      postNanos = System.nanoTime() - start;
      if (outputs.size() == 1) {
        writeRendered(g, rendered.get(0));
      } else {
        g.writeStartObject();
        Iterator<Object> it = rendered.iterator();
        for (String name : outputs.keySet()) {
          g.writeFieldName(name);
          writeRendered(g, it.next());
        }
        g.writeEndObject();
      }
      postNanos = System.nanoTime() - start;
    }

    /** Writes {@code preprocessing_us}, {@code inference_us}, {@code postprocessing_us}. */
    public void writeMicros(JsonGenerator g) throws IOException {
      g.writeNumberField("preprocessing_us", preNanos / 1000);
      g.writeNumberField("inference_us", inferNanos / 1000);
      g.writeNumberField("postprocessing_us", postNanos / 1000);
    }

    /** Writes the camelCase timings in milliseconds. */
    public void writeMillis(JsonGenerator g) throws IOException {
      g.writeNumberField("inferenceTimeMs", inferNanos / 1e6);
      g.writeNumberField("preprocessingTimeMs", preNanos / 1e6);
      g.writeNumberField("postprocessingTimeMs", postNanos / 1e6);
    }

    private Object render(String name, Tensor t) {
      Post p = post;
      if (p == null || (p.outputs() != null && !p.outputs().contains(name))) {
        return t;
      }
      DataType type = t.dataType();
      if (type != DataType.FP32 && type != DataType.FP64) {
        if (p.outputs() != null) {
          throw HttpError.badField("postprocessing.outputs", "output '" + name + "' is " + type
              + "; postprocessing applies to FP32 and FP64 outputs");
        }
        return t;
      }
      return postprocess(p, name, t);
    }
  }

  /** A top-k answer: per row, the best classes. */
  private record TopK(long[] rowShape, int[][] index, double[][] score,
      @Nullable List<String> labels) {}

  private static void writeRendered(JsonGenerator g, Object r) throws IOException {
    if (r instanceof Tensor t) {
      Json.writeNested(g, t);
    } else if (r instanceof TopK k) {
      int[] row = {0};
      writeRows(g, k, 0, row);
    } else {
      throw new IllegalStateException("unknown rendering " + r);
    }
  }

  private static void writeRows(JsonGenerator g, TopK k, int depth, int[] row) throws IOException {
    if (depth == k.rowShape().length) {
      int r = row[0]++;
      g.writeStartArray();
      for (int j = 0; j < k.index()[r].length; j++) {
        g.writeStartObject();
        g.writeNumberField("index", k.index()[r][j]);
        if (k.labels() != null) {
          g.writeStringField("label", k.labels().get(k.index()[r][j]));
        }
        g.writeNumberField("score", k.score()[r][j]);
        g.writeEndObject();
      }
      g.writeEndArray();
      return;
    }
    g.writeStartArray();
    for (long i = 0; i < k.rowShape()[depth]; i++) {
      writeRows(g, k, depth + 1, row);
    }
    g.writeEndArray();
  }

  static Tensor preprocess(Pre pre, Tensor t, String path) {
    DataType type = t.dataType();
    if (type != DataType.FP32 && type != DataType.FP64) {
      if (pre.inputs() != null) {
        throw HttpError.badField(path, "preprocessing applies to FP32 and FP64 inputs; this one"
            + " is " + type);
      }
      return t;
    }
    double[] x = type == DataType.FP64 ? t.toDoubleArray() : toDoubles(t.toFloatArray());
    long[] shape = t.shape();
    for (Op op : pre.ops()) {
      op.apply(x, shape, path);
    }
    return type == DataType.FP64 ? Tensor.of(x, shape) : Tensor.of(toFloats(x), shape);
  }

  static Object postprocess(Post p, String name, Tensor t) {
    long[] shape = t.shape();
    if (shape.length == 0) {
      throw HttpError.badField("postprocessing", "output '" + name + "' is a scalar; it needs a"
          + " class axis");
    }
    int classes = (int) shape[shape.length - 1];
    double[] x = t.dataType() == DataType.FP64 ? t.toDoubleArray() : toDoubles(t.toFloatArray());
    int rows = classes == 0 ? 0 : x.length / classes;
    List<String> labels = p.labels();
    if (labels != null && labels.size() != classes) {
      throw HttpError.badField("postprocessing.labels", "has " + labels.size() + " labels but"
          + " output '" + name + "' has " + classes + " classes");
    }
    if (p.softmax()) {
      for (int r = 0; r < rows; r++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
          max = Math.max(max, x[r * classes + c]);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
          double e = Math.exp(x[r * classes + c] - max);
          x[r * classes + c] = e;
          sum += e;
        }
        for (int c = 0; c < classes; c++) {
          x[r * classes + c] /= sum;
        }
      }
    }
    long[] rowShape = Arrays.copyOf(shape, shape.length - 1);
    if (p.argmax()) {
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
      if (labels != null) {
        String[] named = new String[rows];
        for (int r = 0; r < rows; r++) {
          named[r] = labels.get((int) best[r]);
        }
        return Tensor.of(named, rowShape);
      }
      return Tensor.of(best, rowShape);
    }
    if (p.topK() > 0) {
      int k = Math.min(p.topK(), classes);
      int[][] index = new int[rows][];
      double[][] score = new double[rows][];
      for (int r = 0; r < rows; r++) {
        int base = r * classes;
        Integer[] order = new Integer[classes];
        for (int c = 0; c < classes; c++) {
          order[c] = c;
        }
        // Highest score first; ties keep the lower class index first.
        Arrays.sort(order, (a, b) -> Double.compare(x[base + b], x[base + a]));
        Double threshold = p.threshold();
        int kept = 0;
        while (kept < k && (threshold == null || x[base + order[kept]] >= threshold)) {
          kept++;
        }
        index[r] = new int[kept];
        score[r] = new double[kept];
        for (int j = 0; j < kept; j++) {
          index[r][j] = order[j];
          score[r][j] = x[base + order[j]];
        }
      }
      return new TopK(rowShape, index, score, labels);
    }
    if (p.threshold() != null) {
      double th = p.threshold();
      boolean[] over = new boolean[x.length];
      for (int i = 0; i < x.length; i++) {
        over[i] = x[i] >= th;
      }
      return Tensor.of(over, shape);
    }
    return t.dataType() == DataType.FP64 ? Tensor.of(x, shape) : Tensor.of(toFloats(x), shape);
  }

  private static double[] toDoubles(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  private static float[] toFloats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }

  // ---------------------------------------------------------------- parsing

  /** Reads a {@code preprocessing} object; {@code path} names it in errors. */
  public static Pre readPre(JsonNode node, String path) {
    if (!node.isObject()) {
      throw HttpError.badField(path, "expected an object of operations (scale, normalize,"
          + " standardize, mean, std, inputs), got " + node.getNodeType().name().toLowerCase(
              java.util.Locale.ROOT));
    }
    List<Op> ops = new ArrayList<>();
    Set<String> inputs = null;
    double[] mean = null;
    double[] std = null;
    int shorthandAt = -1;
    for (var it = node.fields(); it.hasNext(); ) {
      var e = it.next();
      String field = path + "." + e.getKey();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "scale" -> ops.add(new Scale(number(v, field)));
        case "normalize", "normalise" -> {
          if (!v.isObject()) {
            throw HttpError.badField(field, "expected {\"min\": number, \"max\": number}");
          }
          double min = number(require(v, "min", field), field + ".min");
          double max = number(require(v, "max", field), field + ".max");
          if (!(max > min)) {
            throw HttpError.badField(field, "max must be greater than min: min " + min + ", max "
                + max);
          }
          ops.add(new Normalize(min, max));
        }
        case "standardize", "standardise" -> {
          if (!v.isObject()) {
            throw HttpError.badField(field, "expected {\"mean\": [...], \"std\": [...],"
                + " \"axis\"?: int}");
          }
          double[] m = v.has("mean") ? numbers(v.get("mean"), field + ".mean") : new double[] {0};
          double[] s = v.has("std") ? numbers(v.get("std"), field + ".std") : new double[] {1};
          int axis = -1;
          if (v.has("axis")) {
            JsonNode a = v.get("axis");
            if (!a.canConvertToInt() || !a.isIntegralNumber()) {
              throw HttpError.badField(field + ".axis", "expected an integer, got " + a);
            }
            axis = a.asInt();
          }
          for (var f = v.fieldNames(); f.hasNext(); ) {
            String k = f.next();
            if (!k.equals("mean") && !k.equals("std") && !k.equals("axis")) {
              throw HttpError.badField(field + "." + k, "unknown field; use mean, std, axis");
            }
          }
          ops.add(standardize(m, s, axis, field));
        }
        case "mean" -> {
          mean = numbers(v, field);
          shorthandAt = shorthandAt < 0 ? ops.size() : shorthandAt;
        }
        case "std" -> {
          std = numbers(v, field);
          shorthandAt = shorthandAt < 0 ? ops.size() : shorthandAt;
        }
        case "inputs" -> inputs = names(v, field);
        default -> throw HttpError.badField(field, "unknown preprocessing operation; use scale,"
            + " normalize, standardize (or mean and std), inputs");
      }
    }
    if (shorthandAt >= 0) {
      ops.add(shorthandAt, standardize(mean == null ? new double[] {0} : mean,
          std == null ? new double[] {1} : std, -1, path));
    }
    return new Pre(List.copyOf(ops), inputs);
  }

  /** Checks and builds a standardize operation. */
  public static Standardize standardize(double[] mean, double[] std, int axis, String path) {
    if (mean.length == 0 || std.length == 0) {
      throw HttpError.badField(path, "mean and std must not be empty");
    }
    if (mean.length != 1 && std.length != 1 && mean.length != std.length) {
      throw HttpError.badField(path, "mean has " + mean.length + " values and std "
          + std.length + "; give one per channel (or one for all)");
    }
    for (double s : std) {
      if (!(s > 0)) {
        throw HttpError.badField(path, "std values must be > 0, got " + s);
      }
    }
    return new Standardize(mean.clone(), std.clone(), axis);
  }

  /** Reads a {@code postprocessing} object; {@code path} names it in errors. */
  public static Post readPost(JsonNode node, String path) {
    if (!node.isObject()) {
      throw HttpError.badField(path, "expected an object of operations (softmax, threshold,"
          + " argmax, top_k, labels, labels_file, outputs)");
    }
    boolean softmax = false;
    Double threshold = null;
    boolean argmax = false;
    int topK = 0;
    List<String> labels = null;
    String labelsFile = null;
    Set<String> outputs = null;
    for (var it = node.fields(); it.hasNext(); ) {
      var e = it.next();
      String field = path + "." + e.getKey();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "softmax" -> softmax = bool(v, field);
        case "argmax" -> argmax = bool(v, field);
        case "threshold" -> threshold = number(v, field);
        case "top_k", "topK" -> {
          if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
            throw HttpError.badField(field, "expected an integer >= 1, got " + v);
          }
          topK = v.asInt();
        }
        case "labels" -> labels = List.copyOf(strings(v, field));
        case "labels_file", "labelsFile" -> {
          if (!v.isTextual() || v.asText().isEmpty()) {
            throw HttpError.badField(field, "expected a path inside the model root");
          }
          labelsFile = v.asText();
        }
        case "outputs" -> outputs = names(v, field);
        default -> throw HttpError.badField(field, "unknown postprocessing operation; use"
            + " softmax, threshold, argmax, top_k, labels, labels_file, outputs");
      }
    }
    return post(softmax, threshold, argmax, topK, labels, labelsFile, outputs, path);
  }

  /** Checks and builds postprocessing. */
  public static Post post(boolean softmax, @Nullable Double threshold, boolean argmax, int topK,
      @Nullable List<String> labels, @Nullable String labelsFile, @Nullable Set<String> outputs,
      String path) {
    if (argmax && topK > 0) {
      throw HttpError.badField(path, "give argmax or top_k, not both");
    }
    if (argmax && threshold != null) {
      throw HttpError.badField(path, "threshold goes alone or with top_k, not with argmax");
    }
    if ((labels != null || labelsFile != null) && !argmax && topK == 0) {
      throw HttpError.badField(path, "labels name the classes of argmax or top_k; give one of"
          + " them");
    }
    if (labels != null && labelsFile != null) {
      throw HttpError.badField(path, "give labels or labels_file, not both");
    }
    return new Post(softmax, threshold, argmax, topK, labels, labelsFile, outputs);
  }

  /** Reads a labels file inside the model root: one label per line. */
  static List<String> readLabels(Settings settings, String given, String path) {
    Path root = settings.modelRoot();
    if (root == null) {
      throw HttpError.badField(path, "a labels file needs the management model root; give"
          + " labels inline");
    }
    Path file;
    try {
      file = ModelRoot.confine(root, given);
    } catch (HttpError e) {
      throw new HttpError(e.status(), path + ": " + e.getMessage());
    }
    return readLabels(file, path);
  }

  /** Reads {@code file}: one label per line, trailing blank lines dropped. */
  public static List<String> readLabels(Path file, String path) {
    List<String> lines;
    try {
      lines = new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw HttpError.badField(path, "cannot read the labels file " + file.getFileName() + ": "
          + e.getClass().getSimpleName());
    }
    while (!lines.isEmpty() && lines.get(lines.size() - 1).isBlank()) {
      lines.remove(lines.size() - 1);
    }
    List<String> out = new ArrayList<>(lines.size());
    for (String l : lines) {
      out.add(l.strip());
    }
    return List.copyOf(out);
  }

  private static JsonNode require(JsonNode obj, String name, String path) {
    JsonNode v = obj.get(name);
    if (v == null) {
      throw HttpError.badField(path + "." + name, "is required");
    }
    return v;
  }

  private static double number(JsonNode v, String path) {
    if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
      throw HttpError.badField(path, "expected a finite number, got " + v);
    }
    return v.asDouble();
  }

  private static boolean bool(JsonNode v, String path) {
    if (!v.isBoolean()) {
      throw HttpError.badField(path, "expected true or false, got " + v);
    }
    return v.asBoolean();
  }

  private static double[] numbers(JsonNode v, String path) {
    if (v.isNumber()) {
      return new double[] {number(v, path)};
    }
    if (!v.isArray() || v.isEmpty()) {
      throw HttpError.badField(path, "expected a number or a non-empty array of numbers");
    }
    double[] out = new double[v.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = number(v.get(i), path + "[" + i + "]");
    }
    return out;
  }

  private static List<String> strings(JsonNode v, String path) {
    if (!v.isArray() || v.isEmpty()) {
      throw HttpError.badField(path, "expected a non-empty array of strings");
    }
    List<String> out = new ArrayList<>(v.size());
    for (int i = 0; i < v.size(); i++) {
      if (!v.get(i).isTextual()) {
        throw HttpError.badField(path + "[" + i + "]", "expected a string, got " + v.get(i));
      }
      out.add(v.get(i).asText());
    }
    return out;
  }

  private static Set<String> names(JsonNode v, String path) {
    return Set.copyOf(new LinkedHashSet<>(strings(v, path)));
  }
}
