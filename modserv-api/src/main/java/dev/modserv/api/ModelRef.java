package dev.modserv.api;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Names a model, and optionally one version of it or a label that points at a version. Without
 * either, the reference means the highest ready version ("latest").
 *
 * <p>Text form: {@code name}, {@code name:3} (version 3) or {@code name:stable} (label {@code
 * stable}); {@code name:latest} is the same as {@code name}.
 */
public final class ModelRef {
  /** The label that always means the highest ready version. */
  public static final String LATEST = "latest";

  private static final Pattern LABEL = Pattern.compile("[A-Za-z][A-Za-z0-9._\\-]{0,63}");

  private final String name;
  private final long version; // 0 when absent
  private final @Nullable String label;

  private ModelRef(String name, long version, @Nullable String label) {
    this.name = name;
    this.version = version;
    this.label = label;
  }

  /** Refers to the highest ready version of {@code name}. */
  public static ModelRef of(String name) {
    return new ModelRef(requireName(name), 0, null);
  }

  /** Refers to version {@code version} (at least 1) of {@code name}. */
  public static ModelRef of(String name, long version) {
    return new ModelRef(requireName(name), requireVersion(version), null);
  }

  /** Refers to the version that {@code label} points at; {@code latest} means the highest ready. */
  public static ModelRef labelled(String name, String label) {
    requireName(name);
    requireLabel(label);
    return new ModelRef(name, 0, LATEST.equals(label) ? null : label);
  }

  /**
   * Parses {@code name}, {@code name:version} or {@code name:label}.
   *
   * @throws IllegalArgumentException naming what is wrong with the text
   */
  public static ModelRef parse(String text) {
    int colon = text.lastIndexOf(':');
    if (colon < 0) {
      return of(text);
    }
    String name = text.substring(0, colon);
    String tail = text.substring(colon + 1);
    if (!tail.isEmpty() && tail.chars().allMatch(Character::isDigit)) {
      try {
        return of(name, Long.parseLong(tail));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("model version is too large: '" + text + "'", e);
      }
    }
    return labelled(name, tail);
  }

  /**
   * Validates a model name: letters, digits, {@code . _ - /}, starting with a letter or digit; the
   * parts between slashes are not empty, {@code .} or {@code ..} (a name never reads as a path that
   * climbs out of a folder).
   */
  public static String requireName(String name) {
    if (!isName(name)) {
      throw new IllegalArgumentException(
          "invalid model name '" + name + "': use 1 to 128 letters, digits, '.', '_', '-' or '/',"
              + " starting with a letter or digit");
    }
    if (name.indexOf('/') >= 0) {
      for (String part : name.split("/", -1)) {
        if (part.isEmpty() || part.equals(".") || part.equals("..")) {
          throw new IllegalArgumentException("invalid model name '" + name + "': a part between"
              + " slashes must not be empty, '.' or '..'");
        }
      }
    }
    return name;
  }

  /**
   * Whether {@code name} has 1 to 128 of the characters a name may have, the first a letter or
   * digit. Checked by hand, not with a pattern: every request names its model.
   */
  private static boolean isName(String name) {
    int n = name.length();
    if (n == 0 || n > 128 || !isLetterOrDigit(name.charAt(0))) {
      return false;
    }
    for (int i = 1; i < n; i++) {
      char c = name.charAt(i);
      if (!isLetterOrDigit(c) && c != '.' && c != '_' && c != '-' && c != '/') {
        return false;
      }
    }
    return true;
  }

  /** An ASCII letter or digit (what {@code [A-Za-z0-9]} takes). */
  private static boolean isLetterOrDigit(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  /** Validates a model version: at least 1. */
  public static long requireVersion(long version) {
    if (version < 1) {
      throw new IllegalArgumentException("model version must be >= 1: " + version);
    }
    return version;
  }

  /** Validates a label: a letter, then letters, digits, {@code . _ -}; not only digits. */
  public static String requireLabel(String label) {
    if (!LABEL.matcher(label).matches()) {
      throw new IllegalArgumentException(
          "invalid label '" + label + "': use 1 to 64 letters, digits, '.', '_' or '-',"
              + " starting with a letter");
    }
    return label;
  }

  /** Returns the model's name. */
  public String name() {
    return name;
  }

  /** Returns the version asked for, if one was. */
  public OptionalLong version() {
    return version == 0 ? OptionalLong.empty() : OptionalLong.of(version);
  }

  /** Returns the label asked for, if one was ({@code latest} is never returned). */
  public Optional<String> label() {
    return Optional.ofNullable(label);
  }

  /** Returns whether this means the highest ready version. */
  public boolean isLatest() {
    return version == 0 && label == null;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof ModelRef other
        && name.equals(other.name)
        && version == other.version
        && Objects.equals(label, other.label);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, version, label);
  }

  /** Returns the text form that {@link #parse(String)} reads. */
  @Override
  public String toString() {
    if (version != 0) {
      return name + ":" + version;
    }
    return label != null ? name + ":" + label : name;
  }
}
