package dev.modserv.core;

import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which loaded versions of a model stay loaded when a new one becomes ready, as in Triton and
 * TF Serving. A version that a label points at stays loaded whatever the policy, until the label
 * moves away from it. Defaults to {@code latest(1)}.
 */
public sealed interface VersionPolicy {
  /** Keeps the {@code count} highest ready versions; older ones drain and unload. */
  static VersionPolicy latest(int count) {
    return new Latest(count);
  }

  /** Keeps every version loaded. */
  static VersionPolicy all() {
    return All.INSTANCE;
  }

  /** Allows only these versions to load; loading any other fails with {@code LOAD_FAILED}. */
  static VersionPolicy specific(long... versions) {
    if (versions.length == 0) {
      throw new IllegalArgumentException("specific(...) needs at least one version");
    }
    Set<Long> set = new TreeSet<>();
    for (long v : versions) {
      if (v < 1) {
        throw new IllegalArgumentException("versions must be >= 1: " + Arrays.toString(versions));
      }
      set.add(v);
    }
    return new Specific(Set.copyOf(set));
  }

  /**
   * Keeps the {@code count} highest ready versions.
   *
   * @param count at least 1
   */
  record Latest(int count) implements VersionPolicy {
    /** Checks the count. */
    public Latest {
      if (count < 1) {
        throw new IllegalArgumentException("latest(count) needs count >= 1: " + count);
      }
    }

    @Override
    public String toString() {
      return "latest(" + count + ")";
    }
  }

  /** Keeps every version. */
  enum All implements VersionPolicy {
    /** The one instance. */
    INSTANCE;

    @Override
    public String toString() {
      return "all";
    }
  }

  /**
   * Allows only the listed versions.
   *
   * @param versions the versions allowed to load
   */
  record Specific(Set<Long> versions) implements VersionPolicy {
    /** Copies the set. */
    public Specific {
      versions = Set.copyOf(versions);
    }

    @Override
    public String toString() {
      return "specific" + new TreeSet<>(versions);
    }
  }
}
