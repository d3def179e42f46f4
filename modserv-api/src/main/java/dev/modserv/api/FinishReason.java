package dev.modserv.api;

/** Why a generation ended. */
public enum FinishReason {
  /** The model ended it (end of sequence) or a stop string was generated. */
  STOP,
  /** It reached its token limit ({@link GenerationRequest#maxTokens()}) or the context's end. */
  LENGTH,
  /** The caller cancelled it. */
  CANCELLED,
  /** The engine failed part way; the stream ends with the error. */
  ERROR;

  /** Returns the name wire formats use: {@code stop}, {@code length}, ... */
  public String tag() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
