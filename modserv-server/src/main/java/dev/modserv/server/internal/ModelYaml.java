package dev.modserv.server.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelProcessing;
import dev.modserv.core.VersionPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Reads a model's {@code model.yaml}. Every key is checked and every problem is reported at once,
 * one line per bad key; nothing is applied from a file with a problem. See
 * {@code docs/configuration.md} for the keys.
 */
public final class ModelYaml {
  /** The top-level keys. */
  public static final Set<String> KEYS = Set.of("engine", "engine-options", "version-policy",
      "warmup", "warmup-iterations", "drain-grace", "keep-alive", "memory", "reject-nan", "labels",
      "max-text-bytes", "max-elements", "use-cases",
      "required-for-readiness", "response-cache", "embedding-cache", "batching",
      "preprocessing", "postprocessing");

  /** The keys under {@code batching}. */
  public static final Set<String> BATCHING_KEYS = Set.of("max-batch-size", "preferred-batch-sizes",
      "max-queue-delay", "max-queue-size", "priority-levels", "default-timeout", "instances",
      "padding", "trim-outputs");

  private static final ObjectMapper YAML = new ObjectMapper(
      YAMLFactory.builder().build().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION));

  private static final com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>> MAP =
      new com.fasterxml.jackson.core.type.TypeReference<>() {};

  private final List<String> problems = new ArrayList<>();
  /** The model's folder, where {@code labels_file} is found. */
  private final Path modelDir;

  private ModelYaml(Path modelDir) {
    this.modelDir = modelDir;
  }

  /**
   * Reads {@code file}.
   *
   * @throws ModelConfigException listing every bad key
   */
  public static ModelSettings read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new ModelConfigException(file, List.of("cannot be read: " + e));
    }
    return parse(file, text);
  }

  /**
   * Parses {@code text}, naming {@code file} in problems.
   *
   * @throws ModelConfigException listing every bad key
   */
  public static ModelSettings parse(Path file, String text) {
    JsonNode root;
    try {
      root = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ModelConfigException(file, List.of("not valid YAML: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")")));
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return ModelSettings.defaults();
    }
    Path dir = file.toAbsolutePath().normalize().getParent();
    ModelYaml y = new ModelYaml(dir == null ? file.toAbsolutePath().getRoot() : dir);
    ModelSettings settings = y.settings(root);
    if (!y.problems.isEmpty() || settings == null) {
      throw new ModelConfigException(file, y.problems);
    }
    return settings;
  }

  /** The keys of a {@code --fit-catalog} entry. */
  public static final Set<String> CATALOG_KEYS = Set.of("name", "engine", "parameters",
      "quantization", "context-length", "use-cases", "artifact-size", "layers", "kv-heads",
      "head-size");

  /**
   * Reads a node fit catalog ({@code --fit-catalog}): a mapping with {@code models}, a list of
   * entries with the keys {@link #CATALOG_KEYS} ({@code docs/node-fit.md}).
   *
   * @throws ModelConfigException listing every bad key, each with its entry's index
   */
  public static List<dev.modserv.http.FitCandidate> readCatalog(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new ModelConfigException(file, List.of("cannot be read: " + e));
    }
    JsonNode root;
    try {
      root = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ModelConfigException(file, List.of("not valid YAML: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")")));
    }
    ModelYaml y = new ModelYaml(file.toAbsolutePath().normalize());
    JsonNode models = root == null ? null : root.get("models");
    if (models == null || !models.isArray() || root.size() != 1) {
      throw new ModelConfigException(file, List.of("(top level): expected a mapping with one"
          + " key, models: a list of models"));
    }
    List<dev.modserv.http.FitCandidate> out = new ArrayList<>();
    Set<String> names = new java.util.HashSet<>();
    for (int i = 0; i < models.size(); i++) {
      dev.modserv.http.FitCandidate c = y.candidate("models[" + i + "]", models.get(i));
      if (c != null && !names.add(c.name())) {
        y.problems.add("models[" + i + "].name: '" + c.name() + "' is listed twice");
      } else if (c != null) {
        out.add(c);
      }
    }
    if (!y.problems.isEmpty()) {
      throw new ModelConfigException(file, y.problems);
    }
    return List.copyOf(out);
  }

  private dev.modserv.http.@Nullable FitCandidate candidate(String at, JsonNode entry) {
    if (!object(at, entry)) {
      return null;
    }
    int before = problems.size();
    String[] name = {""};
    String[] engine = {""};
    String[] quantization = {""};
    long[] numbers = new long[6];  // parameters, context, artifact, layers, kv heads, head size
    List<String> useCases = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : entry.properties()) {
      String key = at + "." + e.getKey();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "name" -> text(key, v, t -> name[0] = t);
        case "engine" -> text(key, v, t -> engine[0] = t);
        case "quantization" -> text(key, v, t -> quantization[0] = t);
        case "parameters" -> numbers[0] = count(key, v);
        case "context-length" -> intValue(key, v, n -> numbers[1] = n);
        case "artifact-size" -> {
          Long bytes = size(key, v);
          numbers[2] = bytes == null ? 0 : bytes;
        }
        case "layers" -> intValue(key, v, n -> numbers[3] = n);
        case "kv-heads" -> intValue(key, v, n -> numbers[4] = n);
        case "head-size" -> intValue(key, v, n -> numbers[5] = n);
        case "use-cases" -> {
          List<String> cases = names(key, v);
          if (cases != null) {
            useCases.addAll(cases);
          }
        }
        default -> problems.add(key + ": unknown key; known keys are "
            + new TreeSet<>(CATALOG_KEYS));
      }
    }
    if (name[0].isEmpty() || engine[0].isEmpty()) {
      problems.add(at + ": name and engine are required");
    }
    if (problems.size() > before) {
      return null;
    }
    try {
      return new dev.modserv.http.FitCandidate(name[0], engine[0], numbers[0], quantization[0],
          (int) numbers[1], useCases, numbers[2], (int) numbers[3], (int) numbers[4],
          (int) numbers[5]);
    } catch (IllegalArgumentException ex) {
      problems.add(at + ": " + ex.getMessage());
      return null;
    }
  }

  /** A parameter count: a whole number, or a size such as {@code 8B} or {@code 500M}. */
  private long count(String key, JsonNode v) {
    if (v.isIntegralNumber() && v.canConvertToLong() && v.longValue() >= 1) {
      return v.longValue();
    }
    if (v.isTextual()) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)([KMBT]?)")
          .matcher(v.textValue().trim().toUpperCase(java.util.Locale.ROOT));
      if (m.matches()) {
        double n = Double.parseDouble(m.group(1)) * switch (m.group(2)) {
          case "K" -> 1e3;
          case "M" -> 1e6;
          case "B" -> 1e9;
          case "T" -> 1e12;
          default -> 1;
        };
        if (n >= 1 && n < 1e15) {
          return Math.round(n);
        }
      }
    }
    problems.add(key + ": expected a parameter count such as 8030261248 or 8B, got "
        + describe(v));
    return 0;
  }

  /** A list of names, or one name. */
  private @Nullable List<String> names(String key, JsonNode v) {
    List<String> out = new ArrayList<>();
    if (v.isTextual()) {
      out.add(v.textValue());
      return out;
    }
    if (!v.isArray()) {
      problems.add(key + ": expected a list of names, got " + kind(v));
      return null;
    }
    for (JsonNode n : v) {
      if (!n.isTextual()) {
        problems.add(key + ": expected a list of names, got " + describe(n) + " in it");
        return null;
      }
      out.add(n.textValue());
    }
    return out;
  }

  private @Nullable ModelSettings settings(JsonNode root) {
    if (!root.isObject()) {
      problems.add("(top level): expected a mapping of keys, got " + kind(root));
      return null;
    }
    ModelConfig.Builder config = ModelConfig.builder();
    Map<String, String> engineOptions = new LinkedHashMap<>();
    Map<String, Long> labels = new LinkedHashMap<>();
    boolean required = true;
    @Nullable Map<String, Object> pre = null;
    @Nullable Map<String, Object> post = null;
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      String key = e.getKey();
      JsonNode v = e.getValue();
      switch (key) {
        case "engine" -> text(key, v, config::backend);
        case "engine-options" -> {
          if (object(key, v)) {
            v.properties().forEach(o -> {
              if (o.getValue().isValueNode() && !o.getValue().isNull()) {
                engineOptions.put(o.getKey(), o.getValue().asText());
              } else {
                problems.add(key + "." + o.getKey() + ": expected a single value, got "
                    + kind(o.getValue()));
              }
            });
          }
        }
        case "version-policy" -> versionPolicy(key, v, config);
        case "warmup" -> bool(key, v, config::warmup);
        case "warmup-iterations" -> intValue(key, v, config::warmupIterations);
        case "drain-grace" -> duration(key, v, false, config::drainGrace);
        case "keep-alive" -> keepAlive(key, v, config);
        case "memory" -> {
          Long bytes = size(key, v);
          if (bytes != null) {
            apply(key, () -> config.memoryBytes(bytes));
          }
        }
        case "reject-nan" -> bool(key, v, config::rejectNaN);
        case "max-text-bytes" -> {
          Long bytes = size(key, v);
          if (bytes != null) {
            apply(key, () -> config.maxTextBytes(bytes));
          }
        }
        case "max-elements" -> {
          if (v.isIntegralNumber() && v.canConvertToLong() && v.longValue() >= 1) {
            apply(key, () -> config.maxElements(v.longValue()));
          } else {
            problems.add(key + ": expected a whole number >= 1, got " + describe(v));
          }
        }
        case "response-cache" -> bool(key, v, config::responseCache);
        case "embedding-cache" -> bool(key, v, config::embeddingCache);
        case "use-cases" -> {
          List<String> cases = names(key, v);
          if (cases != null) {
            apply(key, () -> config.useCases(cases));
          }
        }
        case "labels" -> labels(key, v, labels);
        case "required-for-readiness" -> {
          if (v.isBoolean()) {
            required = v.booleanValue();
          } else {
            problems.add(key + ": expected true or false, got " + kind(v));
          }
        }
        case "batching" -> batching(key, v, config);
        case "preprocessing" -> {
          if (object(key, v)) {
            pre = YAML.convertValue(v, MAP);
          }
        }
        case "postprocessing" -> {
          if (object(key, v)) {
            post = YAML.convertValue(v, MAP);
          }
        }
        default -> problems.add(key + ": unknown key; known keys are " + new TreeSet<>(KEYS));
      }
    }
    if (pre != null || post != null) {
      try {
        config.processing(ModelProcessing.fromMaps(pre, post, this::labelsFile));
      } catch (IllegalArgumentException ex) {
        problems.add(ex.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      return null;
    }
    try {
      com.fasterxml.jackson.databind.node.ObjectNode key =
          ((com.fasterxml.jackson.databind.node.ObjectNode) root).deepCopy();
      // Labels, readiness and processing apply without a reload (processing is read per request).
      key.remove(List.of("labels", "required-for-readiness", "preprocessing", "postprocessing"));
      return new ModelSettings(config.build(), engineOptions, labels, required, canonical(key));
    } catch (IllegalStateException | IllegalArgumentException ex) {
      problems.add("(model): " + ex.getMessage());
      return null;
    }
  }

  /**
   * Resolves a {@code labels_file} in the model's folder, refusing a path that leaves it ({@code
   * ..}, an absolute path elsewhere, a symbolic link pointing out).
   */
  private Path labelsFile(String given) {
    Path p = Path.of(given);
    for (Path part : p) {
      if (part.toString().equals("..")) {
        throw new IllegalArgumentException("'..' is not allowed; give a file in the model's"
            + " folder");
      }
    }
    Path file = modelDir.resolve(p).normalize();
    boolean inside = file.startsWith(modelDir);
    try {
      inside = inside && (!Files.exists(file)
          || file.toRealPath().startsWith(modelDir.toRealPath()));
    } catch (IOException e) {
      inside = false;
    }
    if (!inside) {
      throw new IllegalArgumentException(given + " is outside the model's folder " + modelDir
          .getFileName() + "; give a file in it");
    }
    return file;
  }

  /** The tree with its mapping keys sorted, as text. */
  private static String canonical(JsonNode node) {
    if (node.isObject()) {
      StringBuilder sb = new StringBuilder("{");
      new TreeSet<>(node.propertyStream().map(Map.Entry::getKey).toList()).forEach(k ->
          sb.append(k).append('=').append(canonical(node.get(k))).append(';'));
      return sb.append('}').toString();
    }
    if (node.isArray()) {
      StringBuilder sb = new StringBuilder("[");
      node.forEach(n -> sb.append(canonical(n)).append(','));
      return sb.append(']').toString();
    }
    return node.toString();
  }

  private void versionPolicy(String key, JsonNode v, ModelConfig.Builder config) {
    String expected = "expected all, latest, {latest: N} or {specific: [versions]}";
    if (v.isTextual() && v.textValue().equals("all")) {
      config.versionPolicy(VersionPolicy.all());
    } else if (v.isTextual() && v.textValue().equals("latest")) {
      config.versionPolicy(VersionPolicy.latest(1));
    } else if (v.isObject() && v.size() == 1 && v.has("latest")) {
      Integer n = positiveInt(key + ".latest", v.get("latest"));
      if (n != null) {
        config.versionPolicy(VersionPolicy.latest(n));
      }
    } else if (v.isObject() && v.size() == 1 && v.has("specific")) {
      JsonNode list = v.get("specific");
      if (!list.isArray() || list.isEmpty()) {
        problems.add(key + ".specific: expected a list of versions, got " + kind(list));
        return;
      }
      long[] versions = new long[list.size()];
      for (int i = 0; i < list.size(); i++) {
        Integer n = positiveInt(key + ".specific[" + i + "]", list.get(i));
        if (n == null) {
          return;
        }
        versions[i] = n;
      }
      config.versionPolicy(VersionPolicy.specific(versions));
    } else {
      problems.add(key + ": " + expected + ", got " + describe(v));
    }
  }

  private void keepAlive(String key, JsonNode v, ModelConfig.Builder config) {
    if (v.isTextual() && v.textValue().equals("never")) {
      config.keepAlive(Duration.ofSeconds(-1));
      return;
    }
    duration(key, v, true, config::keepAlive);
  }

  private void labels(String key, JsonNode v, Map<String, Long> labels) {
    if (!object(key, v)) {
      return;
    }
    v.properties().forEach(l -> {
      String path = key + "." + l.getKey();
      if (l.getKey().equals("latest")) {
        problems.add(path + ": 'latest' is reserved (it always means the highest ready version)");
        return;
      }
      Integer n = positiveInt(path, l.getValue());
      if (n != null) {
        labels.put(l.getKey(), n.longValue());
      }
    });
  }

  private void batching(String key, JsonNode v, ModelConfig.Builder config) {
    if (!object(key, v)) {
      return;
    }
    BatchingPolicy.Builder b = BatchingPolicy.builder();
    int before = problems.size();
    for (Map.Entry<String, JsonNode> e : v.properties()) {
      String path = key + "." + e.getKey();
      JsonNode n = e.getValue();
      switch (e.getKey()) {
        case "max-batch-size" -> intValue(path, n, b::maxBatchSize);
        case "max-queue-size" -> intValue(path, n, b::maxQueueSize);
        case "priority-levels" -> intValue(path, n, b::priorityLevels);
        case "instances" -> intValue(path, n, b::instances);
        case "max-queue-delay" -> duration(path, n, false, b::maxQueueDelay);
        case "default-timeout" -> duration(path, n, false, b::defaultTimeout);
        case "preferred-batch-sizes" -> {
          if (!n.isArray() || n.isEmpty()) {
            problems.add(path + ": expected a list of batch sizes, got " + kind(n));
            break;
          }
          int[] sizes = new int[n.size()];
          boolean ok = true;
          for (int i = 0; i < n.size(); i++) {
            Integer s = positiveInt(path + "[" + i + "]", n.get(i));
            ok &= s != null;
            sizes[i] = s == null ? 1 : s;
          }
          if (ok) {
            apply(path, () -> b.preferredBatchSizes(sizes));
          }
        }
        case "padding" -> {
          if (object(path, n)) {
            n.properties().forEach(p -> {
              if (p.getValue().isNumber()) {
                apply(path + "." + p.getKey(), () -> b.pad(p.getKey(), p.getValue().doubleValue()));
              } else {
                problems.add(path + "." + p.getKey() + ": expected a number, got "
                    + describe(p.getValue()));
              }
            });
          }
        }
        case "trim-outputs" -> {
          if (object(path, n)) {
            n.properties().forEach(p -> {
              Integer axis = positiveInt(path + "." + p.getKey(), p.getValue());
              if (axis != null) {
                apply(path + "." + p.getKey(), () -> b.trimOutput(p.getKey(), axis));
              }
            });
          }
        }
        default -> problems.add(path + ": unknown key; known keys are "
            + new TreeSet<>(BATCHING_KEYS));
      }
    }
    if (problems.size() == before) {
      try {
        config.batching(b.build());
      } catch (IllegalStateException | IllegalArgumentException ex) {
        problems.add(key + ": " + ex.getMessage());
      }
    }
  }

  private boolean object(String key, JsonNode v) {
    if (!v.isObject()) {
      problems.add(key + ": expected a mapping, got " + kind(v));
      return false;
    }
    return true;
  }

  private void text(String key, JsonNode v, Consumer<String> to) {
    if (!v.isTextual() || v.textValue().isBlank()) {
      problems.add(key + ": expected a name, got " + describe(v));
      return;
    }
    apply(key, () -> to.accept(v.textValue()));
  }

  private void bool(String key, JsonNode v, Consumer<Boolean> to) {
    if (!v.isBoolean()) {
      problems.add(key + ": expected true or false, got " + describe(v));
      return;
    }
    apply(key, () -> to.accept(v.booleanValue()));
  }

  private void intValue(String key, JsonNode v, Consumer<Integer> to) {
    Integer n = positiveInt(key, v);
    if (n != null) {
      apply(key, () -> to.accept(n));
    }
  }

  private @Nullable Integer positiveInt(String key, JsonNode v) {
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 1) {
      problems.add(key + ": expected a whole number >= 1, got " + describe(v));
      return null;
    }
    return v.intValue();
  }

  private void duration(String key, JsonNode v, boolean negativeAllowed, Consumer<Duration> to) {
    if (!v.isTextual()) {
      problems.add(key + ": expected a duration such as 500ms, 30s or 5m, got " + describe(v)
          + (v.isNumber() ? " (add a unit)" : ""));
      return;
    }
    try {
      Duration d = Units.duration(v.textValue());
      if (d.isNegative() && !negativeAllowed) {
        problems.add(key + ": must not be negative, got " + describe(v));
        return;
      }
      apply(key, () -> to.accept(d));
    } catch (IllegalArgumentException e) {
      problems.add(key + ": " + e.getMessage());
    }
  }

  private @Nullable Long size(String key, JsonNode v) {
    try {
      long bytes;
      if (v.isIntegralNumber()) {
        bytes = v.longValue();
      } else if (v.isTextual()) {
        bytes = Units.bytes(v.textValue());
      } else {
        problems.add(key + ": expected a size such as 512MiB, got " + describe(v));
        return null;
      }
      if (bytes < 1) {
        problems.add(key + ": must be at least 1 byte, got " + describe(v));
        return null;
      }
      return bytes;
    } catch (IllegalArgumentException e) {
      problems.add(key + ": " + e.getMessage());
      return null;
    }
  }

  private void apply(String key, Runnable setter) {
    try {
      setter.run();
    } catch (IllegalArgumentException | IllegalStateException e) {
      problems.add(key + ": " + e.getMessage());
    }
  }

  private static String kind(JsonNode v) {
    return switch (v.getNodeType()) {
      case OBJECT -> "a mapping";
      case ARRAY -> "a list";
      case NULL, MISSING -> "nothing";
      default -> describe(v);
    };
  }

  private static String describe(JsonNode v) {
    if (v.isTextual()) {
      return "\"" + v.textValue() + "\"";
    }
    if (v.isContainerNode()) {
      return kind(v);
    }
    return v.isNull() ? "nothing" : v.toString();
  }
}
