package dev.modserv.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.core.internal.InputValidator;
import dev.modserv.testkit.FakeBackend;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Per-model input limits: a request larger than its model takes is 413 before it is queued. */
class InputLimitsTest {
  private static void assertTooLarge(Runnable call, String messagePart) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(ModelServingException.class, e -> {
      assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE);
      assertThat(e.getMessage()).contains(messagePart);
    });
  }

  @Test
  void aRequestWithMoreElementsThanTheModelTakesIsRefusedBeforeTheEngine() {
    FakeBackend backend = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(backend).discoverBackends(false)
        .build()) {
      server.registry().configure("iris", ModelConfig.builder().maxElements(8).build());
      server.registry().load("iris", 1, Path.of("iris.fake")).join();
      int runsAfterWarmUp = backend.loaded().get(0).runCalls();
      assertTooLarge(() -> server.infer(InferenceRequest.builder("iris")
              .input("x", Tensor.of(new float[12], 3, 4)).build()),
          "model 'iris' takes at most 8 elements per request (max-elements); this one has 12");
      assertThat(backend.loaded().get(0).runCalls()).isEqualTo(runsAfterWarmUp);
      assertThat(server.infer(InferenceRequest.builder("iris")
          .input("x", Tensor.of(new float[8], 2, 4)).build()).outputs()).containsKey("y");
    }
  }

  @Test
  void textIsCountedInUtf8BytesOverEveryStringElement() {
    Map<String, Tensor> twelveBytes = Map.of(
        "a", Tensor.of(new String[] {"h\u00e9llo"}, 1),      // 6 bytes
        "b", Tensor.of(new String[] {"w\u00f6rld"}, 1));     // 6 bytes
    InputValidator.checkSize("m", twelveBytes, 100, 12);
    assertTooLarge(() -> InputValidator.checkSize("m", twelveBytes, 100, 11),
        "model 'm' takes at most 11 bytes of text per request (max-text-bytes)");
    // A surrogate pair is 4 bytes in UTF-8; a 3-byte char is 3.
    InputValidator.checkText("m", List.of("\ud83d\ude00\u20ac"), 7);
    assertTooLarge(() -> InputValidator.checkText("m", List.of("\ud83d\ude00\u20ac"), 6),
        "max-text-bytes");
    assertTooLarge(() -> InputValidator.checkText("m", List.of("x".repeat(5_000_000)),
        ModelConfig.DEFAULT_MAX_TEXT_BYTES), "at most 4194304 bytes of text");
  }

  @Test
  void limitsAreCheckedWhenBuilt() {
    assertThatThrownBy(() -> ModelConfig.builder().maxTextBytes(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxTextBytes");
    assertThatThrownBy(() -> ModelConfig.builder().maxElements(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxElements");
    assertThat(ModelConfig.defaults().withKeepAlive(java.time.Duration.ZERO).maxTextBytes())
        .isEqualTo(ModelConfig.DEFAULT_MAX_TEXT_BYTES);
  }
}
