package dev.modserv.spi;

/**
 * Announces an engine to {@link java.util.ServiceLoader}. Implementations are public final classes
 * with a public no-argument constructor that does no native work: discovering a provider must be
 * cheap. The {@link Backend} (and its native runtime) is created by {@link #backend()} on first use
 * only, and the same instance is returned after that.
 *
 * <p>Register an implementation twice: {@code provides dev.modserv.spi.BackendProvider with ...} in
 * {@code module-info.java}, and a line in {@code META-INF/services/dev.modserv.spi.BackendProvider}
 * for class-path users.
 */
public interface BackendProvider {
  /** Returns the engine's name, e.g. {@code onnxruntime}; unique among providers. */
  String name();

  /**
   * Returns this provider's priority when several support one source: the higher wins, then the
   * name in alphabetical order. Defaults to 0.
   */
  default int priority() {
    return 0;
  }

  /** Returns whether this engine can load {@code source}, judged cheaply (name, a file header). */
  boolean supports(ModelSource source);

  /** Returns the backend, creating it (and starting its native runtime) on the first call. */
  Backend backend();
}
