package dev.modserv.core;

import java.time.Duration;

/**
 * Hears a model server's lifecycle events. Every method does nothing by default; override the
 * ones you need. For each version the events nest as:
 *
 * <pre>
 * loadStarted
 *   ├─ loadFailed                               (the load or the warm-up failed)
 *   └─ warmupFinished → ready
 *        → drainStarted → unloaded              (unload, version policy, or close)
 * labelMoved                                    (any time, for any label)
 * </pre>
 *
 * <p>Listeners are called on the server's threads: they must be fast, must not throw (an
 * exception is logged and ignored) and must not call back into the server.
 */
public interface ModelServerListener {
  /** A version started loading. */
  default void loadStarted(String model, long version) {}

  /** A version's warm-up passed (or was skipped), taking {@code took}. */
  default void warmupFinished(String model, long version, Duration took) {}

  /** A version is ready to serve; {@code loadTook} runs from load start to ready. */
  default void ready(String model, long version, Duration loadTook) {}

  /** A version failed to load or warm up. */
  default void loadFailed(String model, long version, Throwable cause) {}

  /** A version stopped taking requests and waits for its in-flight ones. */
  default void drainStarted(String model, long version) {}

  /** A version's model was closed. */
  default void unloaded(String model, long version) {}

  /** A label now points at {@code version}, or at nothing when {@code version} is 0. */
  default void labelMoved(String model, String label, long version) {}
}
