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

  /**
   * Returns the memory a node gives up when this engine loads {@code source}, told from its files
   * without loading it, for a node fit report: its weights, its context cache for at most {@code
   * maxContextTokens} tokens (0: the model's own setting), and what the engine adds per model (a
   * worker process, session buffers); not the once-per-process {@link #runtimeBytes()}. Unlike
   * {@link #memoryBytes(ModelSource)}, which weighs models against each other in a memory budget,
   * this aims at the resident memory measured after the load. -1 when the engine cannot tell.
   * Defaults to -1.
   */
  default long nodeMemoryBytes(ModelSource source, int maxContextTokens) {
    return -1;
  }

  /**
   * Returns {@link #nodeMemoryBytes(ModelSource, int)} for a model known only by its published
   * figures: {@code weightBytes} of weights and {@code contextCacheBytes} of context cache.
   * Defaults to the weights times {@link #memoryFactor()} plus the cache.
   */
  default long nodeMemoryBytes(long weightBytes, long contextCacheBytes) {
    return (long) (weightBytes * memoryFactor()) + contextCacheBytes;
  }

  /**
   * Returns the memory the engine's runtime takes once in a process, whatever the number of models
   * (native libraries, global pools); 0 when none, as for an engine whose every model runs in a
   * process of its own (counted per model). Defaults to 0.
   */
  default long runtimeBytes() {
    return 0;
  }

  /**
   * Returns whether this engine, as built, can run models on a GPU; a node fit report counts GPU
   * memory only for engines that can. Defaults to false.
   */
  default boolean usesGpu() {
    return false;
  }

  /** Releases the engine's shared resources. Defaults to doing nothing. */
  @Override
  default void close() {}
}
