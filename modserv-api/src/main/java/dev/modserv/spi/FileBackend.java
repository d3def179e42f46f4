package dev.modserv.spi;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * For engine authors: a base for an engine that loads a model from its files with string options
 * ({@link EngineOptions}), as the ONNX Runtime and TensorFlow engines do. It holds the engine's name
 * and the default options its {@link Builder} set, estimates a model's native memory from its
 * files, and closes what a load opened when turning it into a model fails.
 *
 * <pre>{@code
 * public LoadedModel load(ModelSource source) throws Exception {
 *   MyOptions options = MyOptions.parse(defaults(), source.options());
 *   NativeSession session = NativeSession.open(source.location());
 *   return wrapOrClose(session, s -> new MyModel(s,
 *       memoryBytes(options.memoryBytes(), Files.size(source.location()), 16L << 20)));
 * }
 * }</pre>
 */
public abstract class FileBackend implements Backend {
  private final String name;
  private final Map<String, String> defaults;

  /**
   * Creates the engine.
   *
   * @param name the engine's name, e.g. {@code onnxruntime}
   * @param defaults the options every model it loads starts from; a model's own options win
   */
  protected FileBackend(String name, Map<String, String> defaults) {
    this.name = name;
    this.defaults = Map.copyOf(defaults);
  }

  @Override
  public final String name() {
    return name;
  }

  /** Returns the default options, which a model's own options override. */
  protected final Map<String, String> defaults() {
    return defaults;
  }

  /**
   * Returns a model's native memory for the server's budget: {@code configured} when it is 0 or
   * more (an option set by the user), else {@link #memoryFactor()} times the model's files plus
   * {@code overheadBytes} (the engine's session state and thread pools).
   */
  protected final long memoryBytes(long configured, long artifactBytes, long overheadBytes) {
    return configured >= 0 ? configured : (long) (memoryFactor() * artifactBytes) + overheadBytes;
  }

  /** Turns what a load opened (a native session, a bundle) into the model that owns it. */
  @FunctionalInterface
  protected interface Wrap<H extends AutoCloseable> {
    /** Returns the model, which owns {@code opened} from here on. */
    LoadedModel wrap(H opened) throws Exception;
  }

  /**
   * Returns {@code wrap.wrap(opened)}; when that throws, closes {@code opened} (a failure to close
   * is added as suppressed) and rethrows, so that a failed load holds nothing.
   */
  protected static <H extends AutoCloseable> LoadedModel wrapOrClose(H opened, Wrap<H> wrap)
      throws Exception {
    try {
      return wrap.wrap(opened);
    } catch (Exception | Error e) {
      try {
        opened.close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * Builds a {@link FileBackend} whose options are the defaults of every model it loads. An engine's
   * builder adds typed setters that call {@link #option}.
   *
   * @param <S> the engine's builder, returned by every setter
   * @param <B> the engine
   */
  public abstract static class Builder<S extends Builder<S, B>, B extends FileBackend> {
    private final Map<String, String> options = new LinkedHashMap<>();

    /** Creates an empty builder. */
    protected Builder() {}

    /**
     * Checks one option as a model's options would be checked.
     *
     * @throws IllegalArgumentException for an unknown key or a bad value, naming the key
     */
    protected abstract void check(String key, String value);

    /** Returns a new engine whose default options are {@code defaults}. */
    protected abstract B create(Map<String, String> defaults);

    /**
     * Sets any option by its key, as a model configuration would.
     *
     * @throws IllegalArgumentException for an unknown key or a bad value, naming the key
     */
    public final S option(String key, String value) {
      check(key, value);
      options.put(key, value);
      @SuppressWarnings("unchecked") // S is the concrete builder by this class's contract
      S self = (S) this;
      return self;
    }

    /** Returns a new engine; the builder may be used again. */
    public final B build() {
      return create(options);
    }
  }
}
