package dev.modserv.core;

import dev.modserv.spi.ModelSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The models one {@link ModelServer} serves, by name and version, with their lifecycle: {@code
 * LOADING → WARMING → READY → DRAINING → UNLOADED}, or {@code FAILED}.
 *
 * <p>Several versions of a name may be ready at once. A request without a version goes to the
 * highest ready one; labels ({@code stable}, {@code canary}, any name) point at versions and move
 * atomically: every request sees the old version or the new one, never none. Unloading a version
 * refuses new requests to it, lets in-flight ones finish, and only then closes the engine's model,
 * once.
 *
 * <p>Operations that change the registry return futures; failures complete them with a {@link
 * dev.modserv.api.ModelServingException} carrying the error code.
 */
public interface ModelRegistry {

  /**
   * Sets how the registry treats {@code name}: version policy, warm-up, drain grace, engine.
   * Applies to versions loaded from now on; the version policy applies at the next change.
   */
  void configure(String name, ModelConfig config);

  /** Returns the configuration of {@code name}, or the defaults. */
  ModelConfig config(String name);

  /**
   * Returns the inputs and outputs of the version a request for {@code ref} would reach now (its
   * version, its label, else the highest READY one) when that version is READY, else empty. Cheaper
   * than {@link #versions}: no status snapshot, for callers that read it on every request.
   */
  default Optional<dev.modserv.api.ModelMetadata> metadata(dev.modserv.api.ModelRef ref) {
    return versions(ref.name()).stream()
        .filter(s -> s.state() == ModelState.READY)
        .filter(s -> ref.version().isPresent() ? s.version() == ref.version().getAsLong()
            : !ref.label().isPresent() || ref.isLatest() || s.labels().contains(ref.label().get()))
        .max(java.util.Comparator.comparingLong(ModelStatus::version))
        .flatMap(ModelStatus::metadata);
  }

  /**
   * Loads version {@code version} of {@code name}, warms it up and makes it ready. Completes with
   * the ready status, or with {@code LOAD_FAILED} (the version then shows as {@code FAILED} with
   * its cause until it is loaded again or unloaded). Once ready, versions outside the model's
   * version policy drain and unload.
   */
  CompletableFuture<ModelStatus> load(String name, long version, ModelSource source);

  /** Loads {@code path} with no engine options; see {@link #load(String, long, ModelSource)}. */
  default CompletableFuture<ModelStatus> load(String name, long version, Path path) {
    return load(name, version, ModelSource.of(path));
  }

  /**
   * Registers a version without loading it: it loads on its first request (the caller waits for
   * the load within its timeout; concurrent first requests share one load). A version unloaded
   * because it was idle (keep-alive) or to make room for another loads again the same way.
   */
  void register(String name, long version, ModelSource source);

  /** Registers {@code path}; see {@link #register(String, long, ModelSource)}. */
  default void register(String name, long version, Path path) {
    register(name, version, ModelSource.of(path));
  }

  /**
   * Unloads one version: it stops taking requests, labels pointing at it are removed, in-flight
   * requests finish (those not started when the drain grace ends fail with {@code SHUTTING_DOWN}),
   * then the model closes. Completes once it is closed. A version still loading is unloaded as soon
   * as its load ends.
   */
  CompletableFuture<Void> unload(String name, long version);

  /** Unloads every version of {@code name}; completes when all are closed. */
  CompletableFuture<Void> unload(String name);

  /**
   * Makes the version {@code ref} reaches ready, loading a registered one on demand as a request
   * would; completes once one is ready, or fails as a request would ({@code MODEL_NOT_FOUND}, the
   * load's failure). Ollama's prompt-less {@code generate} uses it to load a model.
   */
  CompletableFuture<Void> ensureLoaded(dev.modserv.api.ModelRef ref);

  /**
   * Points {@code label} at {@code version}, which must be ready. The move is atomic for callers.
   * The label {@code latest} is reserved: it always means the highest ready version.
   */
  void label(String name, String label, long version);

  /** Removes {@code label}; the version it pointed at becomes subject to the version policy. */
  void removeLabel(String name, String label);

  /** Returns the status of every version of every model, by name then version. */
  List<ModelStatus> models();

  /** Returns the status of every version of {@code name}, by version; empty when unknown. */
  List<ModelStatus> versions(String name);

  /** Returns the status of one version. */
  Optional<ModelStatus> status(String name, long version);

  /**
   * Returns the versions registered to load on their first request that are not loaded now
   * ({@link #register}ed and never used, or unloaded while idle), by name then version. Their state
   * is {@link ModelState#UNLOADED}; metadata and memory are those of their last load, when they
   * had one. {@link #models()} and {@link #versions(String)} do not list them.
   */
  default List<ModelStatus> registered() {
    return List.of();
  }
}
