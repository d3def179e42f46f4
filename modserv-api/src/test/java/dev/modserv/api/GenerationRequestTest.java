package dev.modserv.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class GenerationRequestTest {

  private static void invalid(Executable build, String message) {
    assertThatThrownBy(build::execute).isInstanceOfSatisfying(ModelServingException.class,
        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT)).hasMessageContaining(message);
  }

  @Test
  void keepsWhatWasSetAndLeavesTheRestToTheEngine() {
    GenerationRequest r = GenerationRequest.builder("chat:2")
        .messages(List.of(ChatMessage.system("s"), ChatMessage.user("u")))
        .maxTokens(32).temperature(0).topP(0.9).topK(40).minP(0.05).repeatPenalty(1.1)
        .seed(7).stop(List.of("\n")).jsonSchema("{}").timeout(Duration.ofSeconds(2)).build();
    assertThat(r.model()).isEqualTo(ModelRef.of("chat", 2));
    assertThat(r.isChat()).isTrue();
    assertThat(r.prompt()).isEmpty();
    assertThat(r.messages()).extracting(ChatMessage::role).containsExactly("system", "user");
    assertThat(r.maxTokens()).isEqualTo(32);
    assertThat(r.temperature()).hasValue(0);
    assertThat(r.topK()).hasValue(40);
    assertThat(r.seed()).hasValue(7);
    assertThat(r.stop()).containsExactly("\n");
    assertThat(r.toBuilder().prompt("p").build().isChat()).isFalse();

    GenerationRequest plain = GenerationRequest.builder("m").prompt("hi").build();
    assertThat(plain.maxTokens()).isEqualTo(GenerationRequest.DEFAULT_MAX_TOKENS);
    assertThat(plain.temperature()).isEmpty();
    assertThat(plain.seed()).isEmpty();
    assertThat(plain.grammar()).isEmpty();
  }

  @Test
  void refusesBadValuesWithInvalidInput() {
    invalid(() -> GenerationRequest.builder("m").build(), "needs a prompt or at least one");
    invalid(() -> GenerationRequest.builder("m").prompt("x").maxTokens(0).build(),
        "maxTokens must be >= 1");
    invalid(() -> GenerationRequest.builder("m").prompt("x").temperature(-0.1).build(),
        "temperature must be in [0.0");
    invalid(() -> GenerationRequest.builder("m").prompt("x").topP(0).build(),
        "topP must be in (0.0, 1.0]");
    invalid(() -> GenerationRequest.builder("m").prompt("x").minP(Double.NaN).build(), "minP");
    invalid(() -> GenerationRequest.builder("m").prompt("x").topK(-1).build(), "topK");
    invalid(() -> GenerationRequest.builder("m").prompt("x").seed(-1).build(), "seed");
    invalid(() -> GenerationRequest.builder("m").prompt("x")
        .stop(List.of("a", "b", "c", "d", "e")).build(), "at most 4 stop strings");
    invalid(() -> GenerationRequest.builder("m").prompt("x").stop(List.of("")).build(),
        "must not be empty");
    invalid(() -> GenerationRequest.builder("m").prompt("x").grammar("g").jsonSchema("{}")
        .build(), "not both");
    invalid(() -> GenerationRequest.builder("m").prompt("x").timeout(Duration.ZERO).build(),
        "timeout must be positive");
    invalid(() -> new ChatMessage("tool", "x"), "system, user or assistant");
  }

  @Test
  void chunksCarryTheEndFieldsTogetherOnTheLastOnly() {
    Usage usage = new Usage(3, 2);
    GenerationTimings timings = new GenerationTimings(1, 2, 3, 4);
    GenerationChunk last = GenerationChunk.last("", FinishReason.LENGTH, usage, timings);
    assertThat(last.last()).isTrue();
    assertThat(last.completionTokens()).isEqualTo(2);
    assertThat(GenerationChunk.delta("a", 1).last()).isFalse();
    assertThatThrownBy(() -> new GenerationChunk("", 0, FinishReason.STOP, null, timings))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(usage.totalTokens()).isEqualTo(5);
    assertThat(timings.promptNanos()).isEqualTo(1);
    assertThat(new GenerationTimings(0, 0, 1_000_000_000, 0).tokensPerSecond(11))
        .isEqualTo(10.0);
    assertThat(FinishReason.CANCELLED.tag()).isEqualTo("cancelled");
  }
}
