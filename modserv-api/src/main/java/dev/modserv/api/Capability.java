package dev.modserv.api;

/** What a loaded model can do; a model has one or more. */
public enum Capability {
  /** Takes named tensors and returns named tensors. */
  TENSOR,
  /** Its first dimension of every input and output is a batch: calls may be stacked. */
  BATCHABLE,
  /** Generates text, streaming tokens. */
  GENERATIVE,
  /** Turns text into embedding vectors. */
  EMBEDDING
}
