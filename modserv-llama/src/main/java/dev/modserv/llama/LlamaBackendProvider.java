package dev.modserv.llama;

import dev.modserv.spi.LazyBackendProvider;

/** Announces the llama.cpp engine: {@code .gguf} files. */
public final class LlamaBackendProvider extends LazyBackendProvider {
  /** Does nothing native. */
  public LlamaBackendProvider() {
    super(LlamaBackend.NAME, LlamaBackend::isGguf, LlamaBackend::new);
  }
}
