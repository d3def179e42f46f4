package dev.modserv.spi;

/**
 * An engine: loads {@link ModelSource}s into {@link LoadedModel}s. A backend is shared by every
 * model it loads and may be called from several threads at once.
 *
 * <p>Closing: a model server closes the backends it created from discovered providers when it
 * closes, after every model has closed. A backend handed to the server's builder belongs to the
 * caller, who closes it.
 */
public interface Backend extends AutoCloseable {
  /** Returns the engine's name, e.g. {@code onnxruntime}. */
  String name();

  /** Returns whether this engine can load {@code source}. */
  boolean supports(ModelSource source);

  /**
   * Loads a model. Throwing any exception fails the load with {@code LOAD_FAILED} and the exception
   * as cause; the backend must then hold nothing of that model.
   */
  LoadedModel load(ModelSource source) throws Exception;

  /**
   * Returns how many bytes of native memory a model takes per byte of its artifact, for the
   * server's memory budget when {@link LoadedModel#memoryBytes()} cannot tell. Defaults to 1.5.
   */
  default double memoryFactor() {
    return 1.5;
  }

  /**
   * Returns how many bytes of memory {@code source} will take once loaded, before it is loaded,
   * or -1 when the engine cannot tell (the server then uses the artifact's size times {@link
   * #memoryFactor()}). Defaults to -1.
   */
  default long memoryBytes(ModelSource source) {
    return -1;
  }

  /** Releases the engine's shared resources. Defaults to doing nothing. */
  @Override
  default void close() {}
}
