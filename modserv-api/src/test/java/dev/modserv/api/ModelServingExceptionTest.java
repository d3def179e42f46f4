package dev.modserv.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class ModelServingExceptionTest {

  private final ModelServingException full =
      new ModelServingException(ErrorCode.QUEUE_FULL, "queue of 'iris:1' is full (64 requests)");

  @Test
  void foundDirectly() {
    assertThat(ModelServingException.find(full)).containsSame(full);
    assertThat(ModelServingException.codeOf(full)).hasValue(ErrorCode.QUEUE_FULL);
  }

  @Test
  void foundThroughCompletionException() {
    CompletionException wrapped = new CompletionException(full);
    assertThat(ModelServingException.find(wrapped)).containsSame(full);
    assertThat(ModelServingException.codeOf(wrapped)).hasValue(ErrorCode.QUEUE_FULL);
  }

  @Test
  void foundThroughExecutionExceptionFromAFuture() {
    CompletableFuture<Void> future = CompletableFuture.failedFuture(full);
    assertThatThrownBy(future::get)
        .isInstanceOf(ExecutionException.class)
        .satisfies(
            e -> {
              assertThat(ModelServingException.find(e)).containsSame(full);
              assertThat(ModelServingException.codeOf(e)).hasValue(ErrorCode.QUEUE_FULL);
            });
    assertThatThrownBy(future::join)
        .isInstanceOf(CompletionException.class)
        .satisfies(e -> assertThat(ModelServingException.codeOf(e)).hasValue(ErrorCode.QUEUE_FULL));
  }

  @Test
  void foundThroughAPlainCauseChain() {
    ModelServingException timeout =
        new ModelServingException(ErrorCode.TIMEOUT, "deadline of 200ms passed in queue");
    Throwable chain =
        new IllegalStateException(
            "outer", new UncheckedIOException(new IOException("middle", timeout)));
    assertThat(ModelServingException.find(chain)).containsSame(timeout);
    assertThat(ModelServingException.codeOf(chain)).hasValue(ErrorCode.TIMEOUT);
  }

  @Test
  void theOutermostOneWins() {
    ModelServingException inner = new ModelServingException(ErrorCode.BACKEND_ERROR, "inner");
    ModelServingException outer =
        new ModelServingException(ErrorCode.LOAD_FAILED, "outer", new CompletionException(inner));
    assertThat(ModelServingException.codeOf(new CompletionException(outer)))
        .hasValue(ErrorCode.LOAD_FAILED);
  }

  @Test
  void emptyWhenAbsent() {
    Throwable chain = new CompletionException(new ExecutionException(new IOException("disk")));
    assertThat(ModelServingException.find(chain)).isEmpty();
    assertThat(ModelServingException.codeOf(chain)).isEmpty();
    assertThat(ModelServingException.find(new RuntimeException())).isEmpty();
    assertThat(ModelServingException.find(null)).isEmpty();
    assertThat(ModelServingException.codeOf(null)).isEmpty();
  }

  @Test
  void aCyclicCauseChainEnds() {
    Exception a = new Exception("a");
    Exception b = new Exception("b", a);
    a.initCause(b);
    assertThat(ModelServingException.find(a)).isEmpty();
  }

  @Test
  void carriesCodeCauseAndRetryHint() {
    IOException cause = new IOException("socket");
    ModelServingException e =
        new ModelServingException(
            ErrorCode.QUEUE_FULL, "queue full", cause, Duration.ofMillis(100));
    assertThat(e.code()).isEqualTo(ErrorCode.QUEUE_FULL);
    assertThat(e).hasMessage("queue full").hasCause(cause);
    assertThat(e.retryAfter()).hasValue(Duration.ofMillis(100));
    assertThat(new ModelServingException(ErrorCode.TIMEOUT, "t").retryAfter()).isEmpty();
    assertThat(new ModelServingException(ErrorCode.TIMEOUT, "t", null).getCause()).isNull();
    assertThat(e).hasToString("dev.modserv.api.ModelServingException: [QUEUE_FULL] queue full");
  }

  @Test
  void aCodeIsRequired() {
    assertThatThrownBy(() -> new ModelServingException(nullCode(), "m"))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("code");
  }

  @Test
  void errorCodeValuesAreStable() {
    assertThat(ErrorCode.MODEL_NOT_FOUND.value()).isEqualTo(1);
    assertThat(ErrorCode.INVALID_INPUT.value()).isEqualTo(4);
    assertThat(ErrorCode.BACKEND_ERROR.value()).isEqualTo(11);
    int expected = 1;
    for (ErrorCode code : ErrorCode.values()) {
      assertThat(code.value())
          .as("codes are numbered 1, 2, ... in order: %s", code)
          .isEqualTo(expected++);
    }
  }

  @SuppressWarnings("NullAway")
  private static ErrorCode nullCode() {
    return null;
  }
}
