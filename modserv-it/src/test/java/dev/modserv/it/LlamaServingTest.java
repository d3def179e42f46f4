package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.ChatMessage;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.api.GenerationStream;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.TinyLlama;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** modserv-llama found by ModelServer, serving a generated GGUF through its worker process. */
class LlamaServingTest {
  @TempDir
  static Path dir;
  private static Path gguf;
  private static ModelServer server;

  @BeforeAll
  static void start() throws Exception {
    gguf = TinyLlama.builder().build().write(dir.resolve("tiny.gguf"));
    server = ModelServer.builder().build();
    server.registry().load("tiny", 1, new ModelSource(gguf, java.util.Map.of(
        "context-size", "4096", "parallel", "2", "threads", "2"))).join();
    server.registry().load("embed", 1, new ModelSource(gguf, java.util.Map.of(
        "embedding", "true", "context-size", "256"))).join();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static GenerationRequest.Builder greedy(int maxTokens) {
    return GenerationRequest.builder("tiny").prompt("hello world").maxTokens(maxTokens)
        .temperature(0).seed(3);
  }

  @Test
  void streamsAndCollectsTheSameGreedyText() {
    List<GenerationChunk> chunks = new ArrayList<>();
    try (GenerationStream s = server.generate(greedy(20).build())) {
      s.iterator().forEachRemaining(chunks::add);
    }
    GenerationChunk last = chunks.get(chunks.size() - 1);
    assertThat(last.finishReason()).isEqualTo(FinishReason.LENGTH);
    assertThat(last.usage().completionTokens()).isEqualTo(20);
    assertThat(last.timings().timeToFirstTokenNanos()).isPositive();
    assertThat(chunks).hasSizeGreaterThan(10);
    String streamed = chunks.stream().map(GenerationChunk::text).reduce("", String::concat);

    GenerationResult whole = server.complete(greedy(20).build());
    assertThat(whole.text()).isEqualTo(streamed);
    assertThat(whole.finishReason()).isEqualTo(FinishReason.LENGTH);
  }

  @Test
  void chatMessagesGoThroughTheTemplate() {
    GenerationResult r = server.complete(GenerationRequest.builder("tiny")
        .messages(List.of(ChatMessage.user("hi"))).maxTokens(5).temperature(0).build());
    assertThat(r.usage().promptTokens()).isGreaterThan(10);
    assertThat(r.usage().completionTokens()).isEqualTo(5);
  }

  @Test
  void closingAStreamMidWayFreesItsSequenceForTheNextRequest() {
    GenerationStream a = server.generate(greedy(3000).build());
    GenerationStream b = server.generate(greedy(3000).build());
    Iterator<GenerationChunk> it = a.iterator();
    it.next();
    a.close();
    GenerationChunk last = null;
    while (it.hasNext()) {
      last = it.next();
    }
    assertThat(last).isNotNull();
    assertThat(last.finishReason()).isEqualTo(FinishReason.CANCELLED);
    long start = System.nanoTime();
    GenerationResult next = server.complete(greedy(3).build());
    assertThat(next.finishReason()).isEqualTo(FinishReason.LENGTH);
    // b still runs 3000 tokens; the next request did not wait for it or for a.
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2_000);
    b.cancel();
  }

  @Test
  void aGenerationPastItsDeadlineEndsWithTimeoutAtTheDeadlineAndTheModelServesTheNext() {
    Duration timeout = Duration.ofMillis(250);
    long start = System.nanoTime();
    assertThatThrownBy(() -> server.complete(greedy(4000).timeout(timeout).build()))
        .isInstanceOfSatisfying(ModelServingException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TIMEOUT));
    long wholeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    // Streamed: the chunks so far, then the error; no last chunk.
    List<GenerationChunk> chunks = new ArrayList<>();
    start = System.nanoTime();
    try (GenerationStream s = server.generate(greedy(4000).timeout(timeout).build())) {
      assertThatThrownBy(() -> s.iterator().forEachRemaining(chunks::add))
          .isInstanceOfSatisfying(ModelServingException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.TIMEOUT));
    }
    long streamedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(chunks).isNotEmpty().noneMatch(GenerationChunk::last);
    assertThat(wholeMillis).isBetween(240L, 1_000L);
    assertThat(streamedMillis).isBetween(240L, 1_000L);
    // Both sequences were stopped in the worker: a short request does not wait behind them.
    start = System.nanoTime();
    GenerationResult next = server.complete(greedy(3).build());
    assertThat(next.finishReason()).isEqualTo(FinishReason.LENGTH);
    // 4,000 tokens take seconds here; 3 take milliseconds.
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1_500);
  }

  @Test
  void embedsThroughTheServer() {
    float[][] v = server.embed("embed", List.of("hello world", "the model"));
    assertThat(v).hasDimensions(2, 64);
    assertThat(v[0]).isNotEqualTo(v[1]);
  }

  @Test
  void meanPoolingIsRefusedUpFront() {
    server.registry().configure("mean", ModelConfig.builder().build());
    assertThatThrownBy(() -> server.registry().load("mean", 1, new ModelSource(gguf,
        java.util.Map.of("embedding", "true", "pooling", "mean"))).join())
        .isInstanceOf(CompletionException.class).cause()
        .isInstanceOfSatisfying(ModelServingException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.LOAD_FAILED))
        .hasMessageContaining("pooling mean is refused");
  }

  @Test
  void theJvmExitsByItselfAfterModelServerClose() throws Exception {
    Path out = dir.resolve("probe.out");
    Process p = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        LlamaExitProbe.class.getName(), gguf.toString())
        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    boolean exited = p.waitFor(90, TimeUnit.SECONDS);
    if (!exited) {
      p.destroyForcibly();
    }
    String output = Files.readString(out, StandardCharsets.UTF_8);
    assertThat(exited).as("the probe JVM exited by itself; its output:%n%s", output).isTrue();
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).contains("generated 4 LENGTH");
  }
}
