package dev.modserv.api;

/**
 * Tokens a generation used, counted with the model's tokenizer.
 *
 * @param promptTokens tokens of the prompt (after the chat template)
 * @param completionTokens tokens generated
 */
public record Usage(int promptTokens, int completionTokens) {

  /** Checks the counts. */
  public Usage {
    if (promptTokens < 0 || completionTokens < 0) {
      throw new IllegalArgumentException("token counts must be >= 0: " + promptTokens + ", "
          + completionTokens);
    }
  }

  /** Returns prompt plus completion tokens. */
  public int totalTokens() {
    return promptTokens + completionTokens;
  }
}
