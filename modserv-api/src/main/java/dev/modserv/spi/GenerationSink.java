package dev.modserv.spi;

import dev.modserv.api.FinishReason;
import dev.modserv.api.Usage;

/**
 * Where an engine delivers one generation, from any one thread at a time. After {@link #complete}
 * or {@link #fail}, nothing more is delivered; the server ignores anything that comes later.
 */
public interface GenerationSink {
  /**
   * Tells the prompt's token count once it is known, before the first token (optional: it lets a
   * cancelled generation report its prompt usage). Defaults to nothing.
   */
  default void prompt(int promptTokens) {}

  /**
   * Delivers generated text.
   *
   * @param text the text since the previous call (may be empty: a step that produced no text yet)
   * @param tokens engine steps (tokens) this call covers, usually 1
   */
  void token(String text, int tokens);

  /** Ends the generation: why, and the tokens used as the tokenizer counts them. */
  void complete(FinishReason reason, Usage usage);

  /**
   * Ends the generation with a failure: a {@code ModelServingException} keeps its code, anything
   * else becomes {@code BACKEND_ERROR}.
   */
  void fail(Throwable error);
}
