/**
 * The llama.cpp engine: {@code .gguf} models for text generation and embeddings, each in a child
 * worker process by default.
 */
@org.jspecify.annotations.NullMarked
module dev.modserv.llama {
  requires transitive dev.modserv.api;
  requires llama;
  requires org.slf4j;
  requires static org.jspecify;

  exports dev.modserv.llama;

  provides dev.modserv.spi.BackendProvider with
      dev.modserv.llama.LlamaBackendProvider;
}
