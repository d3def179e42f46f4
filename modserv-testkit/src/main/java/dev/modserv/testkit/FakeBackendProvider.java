package dev.modserv.testkit;

import dev.modserv.spi.LazyBackendProvider;

/**
 * Announces {@link FakeBackend} to {@link java.util.ServiceLoader}, so that a test with the
 * testkit on its class or module path can load {@code *.fake} sources without naming a backend.
 * Its priority is the lowest there is: it never shadows a real engine.
 */
public final class FakeBackendProvider extends LazyBackendProvider {
  /** Creates the provider; the backend is created on first use. */
  public FakeBackendProvider() {
    super(FakeBackend.NAME, source -> source.fileName().endsWith(FakeBackend.SUFFIX),
        FakeBackend::create);
  }

  @Override
  public int priority() {
    return Integer.MIN_VALUE;
  }
}
