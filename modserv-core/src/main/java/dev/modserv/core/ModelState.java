package dev.modserv.core;

/**
 * Where a model version is in its lifecycle: {@code LOADING → WARMING → READY → DRAINING →
 * UNLOADED}, or {@code FAILED} with its cause kept. Only {@code READY} versions take requests.
 */
public enum ModelState {
  /** The engine is loading the artifact. */
  LOADING,
  /** Loaded; warm-up requests are running. */
  WARMING,
  /** Serving requests. */
  READY,
  /** Refusing new requests; in-flight ones are finishing before the model closes. */
  DRAINING,
  /** Closed; its native resources are freed. */
  UNLOADED,
  /** The load or warm-up failed; the cause is in {@link ModelStatus#failure()}. */
  FAILED
}
