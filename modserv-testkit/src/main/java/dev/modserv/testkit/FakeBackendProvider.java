package dev.modserv.testkit;

import dev.modserv.spi.Backend;
import dev.modserv.spi.BackendProvider;
import dev.modserv.spi.ModelSource;

/**
 * Announces {@link FakeBackend} to {@link java.util.ServiceLoader}, so that a test with the
 * testkit on its class or module path can load {@code *.fake} sources without naming a backend.
 * Its priority is the lowest there is: it never shadows a real engine.
 */
public final class FakeBackendProvider implements BackendProvider {
  private volatile @org.jspecify.annotations.Nullable FakeBackend backend;

  /** Creates the provider; the backend is created on first use. */
  public FakeBackendProvider() {}

  @Override
  public String name() {
    return FakeBackend.NAME;
  }

  @Override
  public int priority() {
    return Integer.MIN_VALUE;
  }

  @Override
  public boolean supports(ModelSource source) {
    return source.fileName().endsWith(FakeBackend.SUFFIX);
  }

  @Override
  public Backend backend() {
    FakeBackend b = backend;
    if (b == null) {
      synchronized (this) {
        b = backend;
        if (b == null) {
          b = FakeBackend.create();
          backend = b;
        }
      }
    }
    return b;
  }
}
