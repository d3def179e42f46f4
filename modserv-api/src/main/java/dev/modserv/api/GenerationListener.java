package dev.modserv.api;

/**
 * Receives a generation as callbacks, on an engine or server thread: keep each call short. Exactly
 * one of {@link #onComplete} and {@link #onError} ends the stream.
 */
public interface GenerationListener {
  /** Receives one chunk; the last one ({@link GenerationChunk#last()}) comes before onComplete. */
  void onChunk(GenerationChunk chunk);

  /** Called once after the last chunk. Defaults to nothing. */
  default void onComplete() {}

  /** Called once when the generation failed or was refused; no chunk follows. */
  void onError(ModelServingException error);
}
