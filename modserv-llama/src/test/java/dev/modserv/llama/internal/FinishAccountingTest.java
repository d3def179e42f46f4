package dev.modserv.llama.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How a generation's end is told from what llama.cpp sends: a piece per token whose text is
 * complete, an empty piece for end-of-sequence, nothing for a token that leaves a character
 * unfinished.
 */
class FinishAccountingTest {
  private static final int CONTEXT = 2048;
  private static final int PROMPT = 10;

  private static GenerationRequest ask(int maxTokens, List<String> stop) {
    return GenerationRequest.builder("tiny").prompt("hi").maxTokens(maxTokens).stop(stop).build();
  }

  @Test
  void aLimitInsideAMultiByteCharacterIsLengthWithEveryToken() {
    // 8 tokens asked; the 8th is the first byte of "é": no piece for it, and the text lacks it.
    GenerationRequest r = ask(8, List.of());
    assertThat(Engine.finishReason(r, PROMPT, 7, "a", 7, CONTEXT)).isEqualTo(FinishReason.LENGTH);
    assertThat(Engine.completionTokens(r, PROMPT, 7, "a", 7, CONTEXT)).isEqualTo(8);
    // Even when every token was unfinished: no piece at all before the final message.
    assertThat(Engine.finishReason(ask(1, List.of()), PROMPT, 0, null, 0, CONTEXT))
        .isEqualTo(FinishReason.LENGTH);
    assertThat(Engine.completionTokens(ask(1, List.of()), PROMPT, 0, null, 0, CONTEXT))
        .isEqualTo(1);
  }

  @Test
  void endOfSequenceIsStopWithTheTokensCounted() {
    GenerationRequest r = ask(8, List.of());
    assertThat(Engine.finishReason(r, PROMPT, 5, "", 5, CONTEXT)).isEqualTo(FinishReason.STOP);
    assertThat(Engine.completionTokens(r, PROMPT, 5, "", 5, CONTEXT)).isEqualTo(5);
  }

  @Test
  void withStopStringsOnlyTheCountTells() {
    GenerationRequest r = ask(8, List.of("."));
    assertThat(Engine.finishReason(r, PROMPT, 5, "a", 5, CONTEXT)).isEqualTo(FinishReason.STOP);
    assertThat(Engine.finishReason(r, PROMPT, 8, "a", 8, CONTEXT))
        .isEqualTo(FinishReason.LENGTH);
  }

  @Test
  void aFullContextIsLengthWithTheTokensCounted() {
    GenerationRequest r = ask(4000, List.of());
    assertThat(Engine.finishReason(r, PROMPT, CONTEXT - PROMPT, "a", CONTEXT - PROMPT, CONTEXT))
        .isEqualTo(FinishReason.LENGTH);
    assertThat(Engine.completionTokens(r, PROMPT, CONTEXT - PROMPT, "a", CONTEXT - PROMPT,
        CONTEXT)).isEqualTo(CONTEXT - PROMPT);
  }
}
