package dev.modserv.spi;

import java.util.function.Predicate;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * For engine authors: a {@link BackendProvider} that creates its engine on the first call of
 * {@link #backend()} and returns that one after. An engine's provider extends it with a public
 * no-argument constructor, as {@link java.util.ServiceLoader} needs:
 *
 * <pre>{@code
 * public final class MyBackendProvider extends LazyBackendProvider {
 *   public MyBackendProvider() {
 *     super(MyBackend.NAME, source -> source.fileName().endsWith(".my"), MyBackend::new);
 *   }
 * }
 * }</pre>
 */
public abstract class LazyBackendProvider implements BackendProvider {
  private final String name;
  private final Predicate<ModelSource> supports;
  private final Supplier<? extends Backend> create;
  private volatile @Nullable Backend backend;

  /**
   * Creates the provider; does no native work.
   *
   * @param name the engine's name
   * @param supports judges cheaply (name, a file header) whether the engine can load a source
   * @param create creates the engine, on the first call of {@link #backend()} only
   */
  protected LazyBackendProvider(
      String name, Predicate<ModelSource> supports, Supplier<? extends Backend> create) {
    this.name = name;
    this.supports = supports;
    this.create = create;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final boolean supports(ModelSource source) {
    return supports.test(source);
  }

  @Override
  public final Backend backend() {
    Backend b = backend;
    if (b == null) {
      synchronized (this) {
        b = backend;
        if (b == null) {
          b = create.get();
          backend = b;
        }
      }
    }
    return b;
  }
}
