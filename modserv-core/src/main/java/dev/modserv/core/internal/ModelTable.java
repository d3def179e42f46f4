package dev.modserv.core.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The name table: model entries by name, their labels, the resolution of a {@link ModelRef} to a
 * version and the lease a request takes on it. Whether the server is closed lives here too, since
 * every resolution checks it.
 */
final class ModelTable {
  private static final int MAX_RESOLVE_ATTEMPTS = 64;

  private final Map<String, ModelEntry> models = new ConcurrentHashMap<>();
  private volatile boolean closed;

  boolean isClosed() {
    return closed;
  }

  /** Refuses every resolution and load from now on. */
  void close() {
    closed = true;
  }

  @Nullable ModelEntry get(String name) {
    return models.get(name);
  }

  ModelEntry getOrCreate(String name) {
    return models.computeIfAbsent(name, ModelEntry::new);
  }

  ModelEntry require(String name) {
    ModelEntry e = models.get(name);
    if (e == null) {
      throw modelNotFound(name);
    }
    return e;
  }

  Collection<ModelEntry> entries() {
    return models.values();
  }

  /** The entries by name. */
  List<ModelEntry> sorted() {
    List<ModelEntry> out = new ArrayList<>();
    for (String name : new TreeSet<>(models.keySet())) {
      ModelEntry e = models.get(name);
      if (e != null) {
        out.add(e);
      }
    }
    return out;
  }

  /** The model's configuration now, or the defaults for a name never configured. */
  ModelConfig config(String name) {
    ModelEntry e = models.get(name);
    return e == null ? ModelConfig.defaults() : e.config;
  }

  int readyCount() {
    int n = 0;
    for (ModelEntry e : models.values()) {
      for (ModelVersion v : e.versions.values()) {
        if (v.state() == ModelState.READY) {
          n++;
        }
      }
    }
    return n;
  }

  List<ModelStatus> versions(String name) {
    ModelEntry e = models.get(name);
    if (e == null) {
      return List.of();
    }
    List<ModelStatus> out = new ArrayList<>();
    for (ModelVersion v : e.versions.values()) {
      out.add(v.status(e.labelsOf(v.version)));
    }
    return out;
  }

  Optional<ModelStatus> status(String name, long version) {
    ModelEntry e = models.get(name);
    ModelVersion v = e == null ? null : e.versions.get(version);
    return e == null || v == null ? Optional.empty() : Optional.of(v.status(e.labelsOf(version)));
  }

  Optional<ModelMetadata> metadata(ModelRef ref) {
    ModelEntry e = models.get(ref.name());
    ModelVersion v = e == null ? null : resolve(e, ref);
    return v == null || v.state() != ModelState.READY ? Optional.empty()
        : Optional.ofNullable(v.metadataOrNull());
  }

  /**
   * Resolves {@code ref} to a ready version and takes a lease on it.
   *
   * @throws ModelServingException MODEL_NOT_FOUND, VERSION_NOT_FOUND, MODEL_NOT_READY, LOAD_FAILED
   *     (the version failed to load) or SHUTTING_DOWN
   */
  ModelVersion acquire(ModelRef ref) {
    if (closed) {
      throw shuttingDown("the server is closed");
    }
    ModelEntry e = require(ref.name());
    for (int attempt = 0; attempt < MAX_RESOLVE_ATTEMPTS; attempt++) {
      long epoch = e.epoch.get();
      ModelVersion candidate = resolve(e, ref);
      if (candidate != null && candidate.tryAcquire()) {
        return candidate;
      }
      if (e.epoch.get() == epoch) {
        // Nothing moved while we looked: the refusal is the registry's real state.
        throw notServable(e, ref, candidate);
      }
    }
    throw new ModelServingException(ErrorCode.MODEL_NOT_READY,
        "model '" + ref + "' kept changing while resolving it; retry");
  }

  /** The version {@code ref} names: its version, its label's, else the highest READY one. */
  static @Nullable ModelVersion resolve(ModelEntry e, ModelRef ref) {
    if (ref.version().isPresent()) {
      return e.versions.get(ref.version().getAsLong());
    }
    if (ref.label().isPresent()) {
      Long target = e.labels.get(ref.label().get());
      return target == null ? null : e.versions.get(target);
    }
    for (ModelVersion v : e.versions.descendingMap().values()) {
      if (v.state() == ModelState.READY) {
        return v;
      }
    }
    return null;
  }

  /**
   * The registered version {@code ref} names, loaded or not: its version, its label's, else the
   * highest registered one; null when none.
   */
  static @Nullable Long registeredTarget(ModelEntry e, ModelRef ref) {
    if (ref.version().isPresent()) {
      return ref.version().getAsLong();
    }
    if (ref.label().isPresent()) {
      return e.labels.get(ref.label().get());
    }
    // Not isEmpty() then max(): a version unregistered in between would make max() throw.
    return e.sources.keySet().stream().max(Long::compare).orElse(null);
  }

  private ModelServingException notServable(ModelEntry e, ModelRef ref,
      @Nullable ModelVersion v) {
    if (closed) {
      return shuttingDown("the server is closed");
    }
    if (v == null) {
      if (ref.version().isPresent()) {
        return versionNotFound(e, "version " + ref.version().getAsLong());
      }
      if (ref.label().isPresent()) {
        return versionNotFound(e, "label '" + ref.label().get() + "'");
      }
      ModelVersion failed = onlyFailures(e);
      if (failed != null) {
        return loadFailed(e, failed);
      }
      StringBuilder states = new StringBuilder();
      e.versions.values().forEach(x -> states.append(states.isEmpty() ? "" : ", ").append(x.version)
          .append(' ').append(x.state()));
      return new ModelServingException(ErrorCode.MODEL_NOT_READY,
          "model '" + e.name + "' has no READY version (" + (states.isEmpty() ? "none loaded"
              : states) + "); wait for a load to finish or load a version");
    }
    return switch (v.state()) {
      case DRAINING, UNLOADED -> shuttingDown(
          "version " + v.version + " of '" + e.name + "' is unloading; send requests to another"
              + " version");
      case FAILED -> loadFailed(e, v);
      default -> new ModelServingException(ErrorCode.MODEL_NOT_READY,
          "version " + v.version + " of '" + e.name + "' is " + v.state()
              + "; retry when it is READY");
    };
  }

  /**
   * The highest FAILED version when nothing else of {@code e} is loading or could serve (waiting
   * would not help), else null.
   */
  private static @Nullable ModelVersion onlyFailures(ModelEntry e) {
    ModelVersion failed = null;
    for (ModelVersion x : e.versions.values()) {
      if (x.state() != ModelState.FAILED) {
        return null;
      }
      failed = x;
    }
    return failed;
  }

  /**
   * A FAILED version stays failed until it is loaded again, so the answer is not retryable: it
   * carries the load's cause and no retry hint.
   */
  private static ModelServingException loadFailed(ModelEntry e, ModelVersion v) {
    Throwable cause = v.failure();
    return new ModelServingException(ErrorCode.LOAD_FAILED,
        "version " + v.version + " of '" + e.name + "' is FAILED and serves nothing until it is"
            + " loaded again (fix the model first); its load failed with: "
            + (cause == null ? "unknown cause" : cause.getMessage()), cause);
  }

  /**
   * Points {@code label} at a READY {@code version}; returns the version it pointed at before, or
   * null.
   */
  @Nullable Long putLabel(ModelEntry e, String label, long version) {
    synchronized (e) {
      ModelVersion v = e.versions.get(version);
      if (v == null) {
        throw versionNotFound(e, "version " + version);
      }
      if (v.state() != ModelState.READY) {
        throw new ModelServingException(ErrorCode.MODEL_NOT_READY,
            "cannot point label '" + label + "' at version " + version + " of '" + e.name
                + "': it is " + v.state() + ", and a label may only point at a READY version");
      }
      Long previous = e.labels.put(label, version);
      e.changed();
      return previous;
    }
  }

  /** Removes {@code label}; VERSION_NOT_FOUND when it was not there. */
  void removeLabel(ModelEntry e, String label) {
    Long previous;
    synchronized (e) {
      previous = e.labels.remove(label);
      e.changed();
    }
    if (previous == null) {
      throw versionNotFound(e, "label '" + label + "'");
    }
  }

  ModelServingException modelNotFound(String name) {
    List<String> known = new ArrayList<>(new TreeSet<>(models.keySet()));
    String list = known.size() > 20 ? known.subList(0, 20) + " and " + (known.size() - 20) + " more"
        : known.toString();
    return new ModelServingException(ErrorCode.MODEL_NOT_FOUND,
        "model '" + name + "' is not registered; registered models: " + list);
  }

  static ModelServingException versionNotFound(ModelEntry e, String what) {
    return new ModelServingException(ErrorCode.VERSION_NOT_FOUND,
        "model '" + e.name + "' has no " + what + "; versions: " + e.versions.keySet()
            + ", labels: " + new TreeSet<>(e.labels.keySet()));
  }

  static ModelServingException shuttingDown(String message) {
    return new ModelServingException(ErrorCode.SHUTTING_DOWN, message);
  }
}
