package dev.modserv.spi;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * For engine authors: an engine's string options ({@link ModelSource#options()}), checked once
 * against the keys the engine reads and read with typed readers. Every failure is an {@link
 * IllegalArgumentException} whose message names the engine and the key, so that a model's
 * configuration can be fixed from the message alone, e.g. {@code onnxruntime option
 * 'intra-op-threads': expected 1 to 2147483647, got 0}.
 *
 * <pre>{@code
 * EngineOptions o = new EngineOptions("myengine", List.of("threads", "cache-dir"),
 *     builderDefaults, source.options());
 * int threads = o.positiveInt("threads");   // -1 when absent
 * Path cache = o.path("cache-dir");         // null when absent
 * }</pre>
 */
public final class EngineOptions {
  private final String engine;
  private final List<String> known;
  private final Map<String, String> values;

  /**
   * Overlays {@code defaults} with {@code overrides} and refuses keys outside {@code known}.
   *
   * @param engine the engine's name as users know it, the first word of every message
   * @param known every key the engine reads, listed in this order when a key is refused
   * @param defaults the engine's own defaults, e.g. set on its builder
   * @param overrides the model's options; they win over {@code defaults}
   * @throws IllegalArgumentException naming the unknown keys and listing the known ones
   */
  public EngineOptions(String engine, List<String> known, Map<String, String> defaults,
      Map<String, String> overrides) {
    this.engine = engine;
    this.known = List.copyOf(known);
    Map<String, String> all = new LinkedHashMap<>(defaults);
    all.putAll(overrides);
    // Sorted: option maps often come unordered, and one message should not vary between runs.
    Set<String> unknown = new TreeSet<>();
    for (String key : all.keySet()) {
      if (!this.known.contains(key)) {
        unknown.add("'" + key + "'");
      }
    }
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("unknown " + engine + " option"
          + (unknown.size() == 1 ? " " : "s ") + String.join(", ", unknown)
          + "; known options: " + String.join(", ", this.known));
    }
    this.values = Map.copyOf(all);
  }

  /** Returns whether the option {@code key} was given, by the defaults or the overrides. */
  public boolean has(String key) {
    return raw(key) != null;
  }

  /** Returns the option {@code key} as given, or null when absent. */
  public @Nullable String get(String key) {
    return raw(key);
  }

  /** Returns the option {@code key} as given, or {@code fallback} when absent. */
  public String string(String key, String fallback) {
    String value = raw(key);
    return value == null ? fallback : value;
  }

  /**
   * Returns the option {@code key} as a whole number, or {@code absent} when it is not given.
   *
   * @throws IllegalArgumentException when the value is not a whole number from min to max
   */
  public long wholeNumber(String key, long min, long max, long absent) {
    String value = raw(key);
    if (value == null) {
      return absent;
    }
    long parsed;
    try {
      parsed = Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw invalid(key, "expected a whole number, got '" + value + "'", e);
    }
    if (parsed < min || parsed > max) {
      throw invalid(key, "expected " + min + " to " + max + ", got " + parsed);
    }
    return parsed;
  }

  /**
   * Returns the option {@code key} as an int, or {@code absent} when it is not given.
   *
   * @throws IllegalArgumentException when the value is not a whole number from min to max
   */
  public int integer(String key, int min, int max, int absent) {
    return (int) wholeNumber(key, min, max, absent);
  }

  /**
   * Returns the option {@code key} as a count of at least 1, or -1 when it is not given, which
   * engines pass on as "the runtime's default".
   *
   * @throws IllegalArgumentException when the value is not a whole number of at least 1
   */
  public int positiveInt(String key) {
    return integer(key, 1, Integer.MAX_VALUE, -1);
  }

  /**
   * Returns the option {@code key} as a boolean, or {@code absent} when it is not given. Only
   * {@code true} and {@code false} (any case) are accepted: {@code yes} or {@code 1} are more
   * likely a mistake than a wish.
   *
   * @throws IllegalArgumentException for any other value
   */
  public boolean bool(String key, boolean absent) {
    String value = raw(key);
    if (value == null) {
      return absent;
    }
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw invalid(key, "expected true or false, got '" + value + "'");
    };
  }

  /**
   * Returns the option {@code key} as a path, or null when it is absent or blank (a blank value
   * lets a model undo a default path).
   *
   * @throws IllegalArgumentException when the value is not a path on this system
   */
  public @Nullable Path path(String key) {
    String value = raw(key);
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      return Path.of(value.trim());
    } catch (InvalidPathException e) {
      throw invalid(key, "expected a path, got '" + value + "'", e);
    }
  }

  /**
   * Returns the option {@code key}, or {@code fallback} when it is absent, split at commas, each
   * part trimmed.
   *
   * @throws IllegalArgumentException when a part is empty, such as in {@code a,,b} or {@code ""}
   */
  public List<String> list(String key, String fallback) {
    String value = string(key, fallback);
    List<String> parts = new ArrayList<>();
    for (String part : value.split(",", -1)) {
      String trimmed = part.trim();
      if (trimmed.isEmpty()) {
        throw invalid(key, "expected comma-separated values, none empty, got '" + value + "'");
      }
      parts.add(trimmed);
    }
    return List.copyOf(parts);
  }

  /**
   * Returns an exception for a bad value of {@code key}, worded like this class's own, for the
   * checks only the engine knows (an enum, a relation between two options).
   *
   * @param problem what was expected and what came, e.g. {@code expected a or b, got 'c'}
   */
  public IllegalArgumentException invalid(String key, String problem) {
    return new IllegalArgumentException(engine + " option '" + key + "': " + problem);
  }

  private IllegalArgumentException invalid(String key, String problem, Exception cause) {
    IllegalArgumentException e = invalid(key, problem);
    e.initCause(cause);
    return e;
  }

  private @Nullable String raw(String key) {
    // A key the engine forgot to list would read as absent forever; fail its author's tests.
    if (!known.contains(key)) {
      throw new IllegalArgumentException(engine + " reads option '" + key
          + "', which is not among its known options " + known);
    }
    return values.get(key);
  }
}
