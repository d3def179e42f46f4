package dev.modserv.llama;

import dev.modserv.spi.Backend;
import dev.modserv.spi.BackendProvider;
import dev.modserv.spi.ModelSource;

/** Announces the llama.cpp engine: {@code .gguf} files. */
public final class LlamaBackendProvider implements BackendProvider {
  private volatile @org.jspecify.annotations.Nullable LlamaBackend backend;

  /** Does nothing native. */
  public LlamaBackendProvider() {}

  @Override
  public String name() {
    return LlamaBackend.NAME;
  }

  @Override
  public boolean supports(ModelSource source) {
    return LlamaBackend.isGguf(source);
  }

  @Override
  public synchronized Backend backend() {
    LlamaBackend b = backend;
    if (b == null) {
      b = new LlamaBackend();
      backend = b;
    }
    return b;
  }
}
