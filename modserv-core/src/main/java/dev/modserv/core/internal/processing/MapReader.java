package dev.modserv.core.internal.processing;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Reads the map form of {@code preprocessing} and {@code postprocessing} (what JSON and YAML
 * objects become: maps, lists, strings, numbers, booleans), operations in the map's order. Every
 * problem is an {@link IllegalArgumentException} whose message starts with the key's path.
 */
public final class MapReader {
  private MapReader() {}

  /** Reads a {@code preprocessing} map; {@code path} names it in errors. */
  public static Preprocessing pre(Map<String, ?> map, String path) {
    Object flag = map.get("normalize") != null ? map.get("normalize") : map.get("normalise");
    if (flag instanceof Boolean on) {
      return camelCase(map, on, path);
    }
    List<Op> ops = new ArrayList<>();
    Set<String> inputs = null;
    double[] mean = null;
    double[] std = null;
    int shorthandAt = -1;
    for (Map.Entry<String, ?> e : map.entrySet()) {
      String field = path + "." + e.getKey();
      Object v = e.getValue();
      switch (e.getKey()) {
        case "scale" -> ops.add(new Op.Scale(number(v, field)));
        case "normalize", "normalise" -> ops.add(normalize(v, field));
        case "standardize", "standardise" -> ops.add(standardize(v, field));
        case "mean" -> {
          mean = numbers(v, field);
          shorthandAt = shorthandAt < 0 ? ops.size() : shorthandAt;
        }
        case "std" -> {
          std = numbers(v, field);
          shorthandAt = shorthandAt < 0 ? ops.size() : shorthandAt;
        }
        case "inputs" -> inputs = names(v, field);
        default -> throw bad(field, "unknown preprocessing operation; use scale, normalize,"
            + " standardize (or mean and std), inputs");
      }
    }
    if (shorthandAt >= 0) {
      ops.add(shorthandAt, Op.Standardize.of(mean == null ? new double[] {0} : mean,
          std == null ? new double[] {1} : std, -1, path));
    }
    return new Preprocessing(ops, inputs);
  }

  /** {@code normalize: {min, max}}: scales into [0, 1]. */
  private static Op normalize(@Nullable Object v, String field) {
    if (!(v instanceof Map<?, ?> m)) {
      throw bad(field, "expected {\"min\": a, \"max\": b}, or true together with scale:"
          + " (x / scale - mean) / std");
    }
    for (Object k : m.keySet()) {
      if (!"min".equals(k) && !"max".equals(k)) {
        throw bad(field + "." + k, "unknown field; use min and max");
      }
    }
    double min = number(require(m, "min", field), field + ".min");
    double max = number(require(m, "max", field), field + ".max");
    if (!(max > min)) {
      throw bad(field, "max must be greater than min: min " + min + ", max " + max);
    }
    return new Op.Normalize(min, max);
  }

  /** {@code standardize: {mean, std, axis?}}: (x - mean[c]) / std[c]. */
  private static Op standardize(@Nullable Object v, String field) {
    if (!(v instanceof Map<?, ?> m)) {
      throw bad(field, "expected {\"mean\": [...], \"std\": [...], \"axis\"?: int}");
    }
    for (Object k : m.keySet()) {
      if (!"mean".equals(k) && !"std".equals(k) && !"axis".equals(k)) {
        throw bad(field + "." + k, "unknown field; use mean, std, axis");
      }
    }
    double[] mean = m.get("mean") != null ? numbers(m.get("mean"), field + ".mean")
        : new double[] {0};
    double[] std = m.get("std") != null ? numbers(m.get("std"), field + ".std")
        : new double[] {1};
    int axis = m.get("axis") != null ? integer(m.get("axis"), field + ".axis") : -1;
    return Op.Standardize.of(mean, std, axis, field);
  }

  /**
   * The camelCase clients' form: {@code normalize: true} with {@code scale} computes (x / scale -
   * mean[c]) / std[c] along {@code axis} (default the last); {@code normalize: false} changes
   * nothing.
   */
  private static Preprocessing camelCase(Map<String, ?> map, boolean on, String path) {
    String flag = map.containsKey("normalize") ? "normalize" : "normalise";
    for (String k : map.keySet()) {
      if (!Set.of("normalize", "normalise", "scale", "mean", "std", "axis", "inputs").contains(k)) {
        throw bad(path + "." + k, "does not go with " + flag + ": true|false; with it, give"
            + " scale, mean, std, axis and inputs");
      }
    }
    Set<String> inputs = map.get("inputs") != null ? names(map.get("inputs"), path + ".inputs")
        : null;
    double scale = map.get("scale") != null ? number(map.get("scale"), path + ".scale") : 0;
    double[] mean = map.get("mean") != null ? numbers(map.get("mean"), path + ".mean") : null;
    double[] std = map.get("std") != null ? numbers(map.get("std"), path + ".std") : null;
    int axis = map.get("axis") != null ? integer(map.get("axis"), path + ".axis") : -1;
    if (!on) {
      return new Preprocessing(List.of(), inputs);
    }
    if (map.get("scale") == null) {
      throw bad(path + "." + flag, "expected {\"min\": a, \"max\": b}, or true together with"
          + " scale: (x / scale - mean) / std");
    }
    if (scale == 0) {
      throw bad(path + ".scale", "with " + flag + ": true the inputs are divided by scale; it"
          + " must not be 0");
    }
    List<Op> ops = new ArrayList<>();
    ops.add(new Op.Divide(scale));
    if (mean != null || std != null) {
      ops.add(Op.Standardize.of(mean == null ? new double[] {0} : mean,
          std == null ? new double[] {1} : std, axis, path));
    }
    return new Preprocessing(ops, inputs);
  }

  /**
   * Reads a {@code postprocessing} map; {@code path} names it in errors. {@code labelsFiles} maps
   * a {@code labels_file} value to the file to read, or is null when labels files are refused.
   */
  public static Postprocessing post(Map<String, ?> map, String path,
      @Nullable Function<String, Path> labelsFiles) {
    boolean softmax = false;
    Double threshold = null;
    boolean argmax = false;
    int topK = 0;
    int classification = 0;
    List<String> labels = null;
    String labelsField = null;
    Set<String> outputs = null;
    for (Map.Entry<String, ?> e : map.entrySet()) {
      String field = path + "." + e.getKey();
      Object v = e.getValue();
      switch (e.getKey()) {
        case "softmax" -> softmax = bool(v, field);
        case "argmax" -> argmax = bool(v, field);
        case "threshold" -> threshold = number(v, field);
        case "top_k", "topK" -> topK = positive(v, field);
        case "classification" -> classification = positive(v, field);
        case "labels" -> {
          if (labelsField != null) {
            throw bad(path, "give labels or labels_file, not both");
          }
          labelsField = field;
          labels = List.copyOf(strings(v, field));
        }
        case "labels_file", "labelsFile" -> {
          if (labelsField != null) {
            throw bad(path, "give labels or labels_file, not both");
          }
          labelsField = field;
          if (!(v instanceof String given) || given.isEmpty()) {
            throw bad(field, "expected the path of a file with one label per line");
          }
          if (labelsFiles == null) {
            throw bad(field, "labels files are not read here; give labels inline");
          }
          Path file;
          try {
            file = labelsFiles.apply(given);
          } catch (IllegalArgumentException refused) {
            throw bad(field, refused.getMessage());
          }
          labels = readLabels(file, field);
        }
        case "outputs" -> outputs = names(v, field);
        default -> throw bad(field, "unknown postprocessing operation; use softmax, threshold,"
            + " argmax, top_k, classification, labels, labels_file, outputs");
      }
    }
    return Postprocessing.of(softmax, threshold, argmax, topK, classification, labels, outputs,
        path);
  }

  /**
   * Reads {@code file}: one label per line, stripped, trailing blank lines dropped.
   *
   * @throws IllegalArgumentException naming {@code path} when it cannot be read
   */
  public static List<String> readLabels(Path file, String path) {
    List<String> lines;
    try {
      lines = new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw bad(path, "cannot read the labels file " + file.getFileName() + ": "
          + e.getClass().getSimpleName());
    }
    while (!lines.isEmpty() && lines.get(lines.size() - 1).isBlank()) {
      lines.remove(lines.size() - 1);
    }
    if (lines.isEmpty()) {
      throw bad(path, "the labels file " + file.getFileName() + " is empty");
    }
    return lines.stream().map(String::strip).toList();
  }

  private static IllegalArgumentException bad(String path, @Nullable String message) {
    return new IllegalArgumentException(path + ": " + message);
  }

  private static Object require(Map<?, ?> map, String name, String path) {
    Object v = map.get(name);
    if (v == null) {
      throw bad(path + "." + name, "is required");
    }
    return v;
  }

  private static double number(@Nullable Object v, String path) {
    if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue())) {
      throw bad(path, "expected a finite number, got " + describe(v));
    }
    return n.doubleValue();
  }

  /** The value as a long when it is an integer that fits one, else null. */
  private static @Nullable Long integral(@Nullable Object v) {
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof BigInteger b && b.bitLength() < 64) {
      return b.longValue();
    }
    return null;
  }

  private static int integer(@Nullable Object v, String path) {
    Long n = integral(v);
    if (n == null || n != n.intValue()) {
      throw bad(path, "expected an integer, got " + describe(v));
    }
    return n.intValue();
  }

  private static int positive(@Nullable Object v, String path) {
    Long n = integral(v);
    if (n == null || n < 1 || n > Integer.MAX_VALUE) {
      throw bad(path, "expected an integer >= 1, got " + describe(v));
    }
    return n.intValue();
  }

  private static boolean bool(@Nullable Object v, String path) {
    if (!(v instanceof Boolean b)) {
      throw bad(path, "expected true or false, got " + describe(v));
    }
    return b;
  }

  private static double[] numbers(@Nullable Object v, String path) {
    if (v instanceof Number) {
      return new double[] {number(v, path)};
    }
    if (!(v instanceof List<?> list) || list.isEmpty()) {
      throw bad(path, "expected a number or a non-empty array of numbers");
    }
    double[] out = new double[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = number(list.get(i), path + "[" + i + "]");
    }
    return out;
  }

  private static List<String> strings(@Nullable Object v, String path) {
    if (!(v instanceof List<?> list) || list.isEmpty()) {
      throw bad(path, "expected a non-empty array of strings");
    }
    List<String> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof String s)) {
        throw bad(path + "[" + i + "]", "expected a string, got " + describe(list.get(i)));
      }
      out.add(s);
    }
    return out;
  }

  private static Set<String> names(@Nullable Object v, String path) {
    return Set.copyOf(new LinkedHashSet<>(strings(v, path)));
  }

  /** A value as JSON would show it. */
  private static String describe(@Nullable Object v) {
    if (v instanceof String s) {
      return "\"" + s + "\"";
    }
    if (v instanceof Map<?, ?>) {
      return "an object";
    }
    if (v instanceof List<?>) {
      return "an array";
    }
    return String.valueOf(v);
  }
}
