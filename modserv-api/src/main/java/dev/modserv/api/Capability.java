package dev.modserv.api;

/** What a loaded model can do; a model has one or more. */
public enum Capability {
  /** Takes named tensors and returns named tensors. */
  TENSOR,
  /** Its first dimension of every input and output is a batch: calls may be stacked. */
  BATCHABLE,
  /** Generates text, streaming tokens. */
  GENERATIVE,
  /**
   * Turns text into embedding vectors. Such a model takes a STRING input named {@link
   * #EMBEDDING_INPUT} of shape {@code [n]} and gives an FP32 output named {@link
   * #EMBEDDING_OUTPUT} of shape {@code [n, dimensions]}, one vector per string. It may also give
   * an INT64 output named {@link #EMBEDDING_TOKENS} of shape {@code [n]}: the tokens each string
   * took, for usage counts.
   */
  EMBEDDING;

  /** The input name of an embedding model: the strings to embed. */
  public static final String EMBEDDING_INPUT = "text";

  /** The output name of an embedding model: one vector per string. */
  public static final String EMBEDDING_OUTPUT = "embedding";

  /** The optional output of an embedding model: the number of tokens of each string. */
  public static final String EMBEDDING_TOKENS = "tokens";
}
