package dev.modserv.llama;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.ChatMessage;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.ModelServingException;
import dev.modserv.llama.internal.WorkerModel;
import dev.modserv.spi.GenerationHandle;
import dev.modserv.spi.ModelSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Generation through a worker process, at the engine's SPI. */
class WorkerGenerationTest {
  private static WorkerModel model;

  @BeforeAll
  static void load() throws Exception {
    model = (WorkerModel) new LlamaBackend().load(ModelSource.of(Fixtures.tiny())
        .withOption("context-size", "8192").withOption("parallel", "4")
        .withOption("threads", "2"));
  }

  @AfterAll
  static void close() throws Exception {
    model.close();
  }

  private static GenerationRequest.Builder greedy(int maxTokens) {
    return GenerationRequest.builder("tiny").prompt("hello world").maxTokens(maxTokens)
        .temperature(0).seed(7);
  }

  private static Collector.End generate(GenerationRequest request) throws Exception {
    Collector c = new Collector();
    model.generate(request, c);
    return c.await();
  }

  @Test
  void streamsToTheTokenLimitAndEndsWithLength() throws Exception {
    Collector c = new Collector();
    model.generate(greedy(16).build(), c);
    Collector.End end = c.await();
    assertThat(end.reason()).isEqualTo(FinishReason.LENGTH);
    assertThat(end.usage().completionTokens()).isEqualTo(16);
    assertThat(end.usage().promptTokens()).isPositive();
    assertThat(c.promptTokens).isEqualTo(end.usage().promptTokens());
    assertThat(c.pieces).hasSizeGreaterThan(1);
    assertThat(end.steps()).isBetween(12, 16);
    assertThat(end.text()).isNotEmpty();
    assertThat(c.threads).as("application code never runs on the socket reader")
        .allMatch(t -> t.startsWith("modserv-llama-events-"));
  }

  @Test
  void greedyWithASeedRepeats() throws Exception {
    Collector.End first = generate(greedy(24).build());
    Collector.End second = generate(greedy(24).build());
    assertThat(second.text()).isEqualTo(first.text());
    Collector.End sampled = generate(greedy(24).temperature(1.5).seed(11).build());
    Collector.End sampledAgain = generate(greedy(24).temperature(1.5).seed(11).build());
    assertThat(sampledAgain.text()).isEqualTo(sampled.text());
  }

  @Test
  void stopsBeforeAStopStringAndEndsWithStop() throws Exception {
    String full = generate(greedy(32).build()).text();
    // Random weights emit stray bytes too: stop on three printable ASCII characters.
    String stop = null;
    for (int i = 4; i + 3 <= full.length() && stop == null; i++) {
      String s = full.substring(i, i + 3);
      if (s.chars().allMatch(ch -> ch > ' ' && ch < 127)) {
        stop = s;
      }
    }
    assertThat(stop).as("three ASCII characters in [%s]", full).isNotNull();
    int at = full.indexOf(stop);
    Collector.End end = generate(greedy(32).stop(List.of(stop)).build());
    assertThat(end.text()).as("stop [%s] in [%s]", stop, full).isEqualTo(full.substring(0, at));
    assertThat(end.reason()).isEqualTo(FinishReason.STOP);
    assertThat(end.usage().completionTokens()).isLessThan(32);
  }

  @Test
  void aGrammarOrAJsonSchemaConstrainsTheOutput() throws Exception {
    Collector.End digits = generate(greedy(12).grammar("root ::= [0-9]+").build());
    assertThat(digits.text()).isNotEmpty().containsOnlyDigits();
    Collector.End json = generate(greedy(40).temperature(0.8).jsonSchema(
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},"
            + "\"required\":[\"a\"]}").build());
    assertThat(json.text()).startsWith("{");
  }

  @Test
  void rendersChatMessagesWithTheTemplate() throws Exception {
    Collector c = new Collector();
    model.generate(GenerationRequest.builder("tiny").messages(List.of(
        ChatMessage.system("be brief"), ChatMessage.user("hello"))).maxTokens(8)
        .temperature(0).build(), c);
    Collector.End end = c.await();
    assertThat(end.reason()).isEqualTo(FinishReason.LENGTH);
    // The ChatML scaffolding is far longer than the two messages.
    assertThat(end.usage().promptTokens()).isGreaterThan(30);
  }

  @Test
  void aPromptLongerThanASequenceIsInvalidInput() throws Exception {
    Collector c = new Collector();
    model.generate(GenerationRequest.builder("tiny").prompt("x ".repeat(3000)).maxTokens(4)
        .build(), c);
    assertThatThrownBy(c::await).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(ModelServingException.class)
        .hasMessageContaining("sequence of this model holds 2048")
        .extracting(e -> ((ModelServingException) e).code()).isEqualTo(ErrorCode.INVALID_INPUT);
  }

  @Test
  void cancellingMidStreamFreesTheSequenceAtOnce() throws Exception {
    // One sequence: the next request can only start once the cancelled one let go of it.
    WorkerModel single = (WorkerModel) new LlamaBackend().load(ModelSource.of(Fixtures.tiny())
        .withOption("context-size", "8192").withOption("threads", "2"));
    try {
      Collector longOne = new Collector();
      GenerationHandle h = single.generate(greedy(8000).build(), longOne);
      assertThat(longOne.awaitFirstToken()).isTrue();
      h.cancel();
      Collector.End cancelled = longOne.await();
      assertThat(cancelled.reason()).isEqualTo(FinishReason.CANCELLED);
      assertThat(cancelled.usage().completionTokens()).isLessThan(8000);

      long start = System.nanoTime();
      Collector next = new Collector();
      single.generate(greedy(4).build(), next);
      Collector.End end = next.await();
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(end.reason()).isEqualTo(FinishReason.LENGTH);
      // 8000 tokens would take several seconds; a freed sequence answers in milliseconds.
      assertThat(millis).isLessThan(2_000);
    } finally {
      single.close();
    }
  }

  @Test
  void fourConcurrentStreamsOnFourSequences() throws Exception {
    List<Collector> all = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Collector c = new Collector();
      model.generate(greedy(48).prompt("hello " + i).build(), c);
      all.add(c);
    }
    for (Collector c : all) {
      Collector.End end = c.await();
      assertThat(end.reason()).isEqualTo(FinishReason.LENGTH);
      assertThat(end.usage().completionTokens()).isEqualTo(48);
    }
    // Interleaved, not one after another: every stream had its first token before any ended.
    long lastFirst = all.stream().mapToLong(c -> c.firstTokenNanos).max().orElseThrow();
    long firstEnd = all.stream().mapToLong(c -> c.endNanos).min().orElseThrow();
    assertThat(lastFirst).isLessThan(firstEnd);
  }

  @Test
  void killingTheWorkerFailsInFlightWithBackendErrorAndARequestAfterTheRestartSucceeds()
      throws Exception {
    WorkerModel victim = (WorkerModel) new LlamaBackend().load(ModelSource.of(Fixtures.tiny())
        .withOption("context-size", "8192").withOption("threads", "1"));
    try {
      Collector inFlight = new Collector();
      victim.generate(greedy(8000).build(), inFlight);
      assertThat(inFlight.awaitFirstToken()).isTrue();
      long pid = victim.workerPid();
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      assertThatThrownBy(inFlight::await).cause().isInstanceOf(ModelServingException.class)
          .extracting(e -> ((ModelServingException) e).code()).isEqualTo(ErrorCode.BACKEND_ERROR);
      assertThat(inFlight.threads).as("events come off the socket reader")
          .allMatch(t -> t.startsWith("modserv-llama-events-"));

      // The restart runs on its own thread: requests meanwhile fail fast and say when to retry.
      Collector.End next = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (next == null && System.nanoTime() < deadline) {
        Collector c = new Collector();
        try {
          victim.generate(greedy(8).build(), c);
          next = c.await();
        } catch (ModelServingException e) {
          assertThat(e.code()).isEqualTo(ErrorCode.MODEL_NOT_READY);
          assertThat(e.retryAfter()).isPresent();
          Thread.sleep(50);
        } catch (ExecutionException e) {
          // sent to the dead worker before its reader saw it die
          assertThat(((ModelServingException) e.getCause()).code())
              .isEqualTo(ErrorCode.BACKEND_ERROR);
        }
      }
      assertThat(next).isNotNull();
      assertThat(next.reason()).isEqualTo(FinishReason.LENGTH);
      assertThat(victim.restarts()).isEqualTo(1);
      assertThat(victim.lastRestartThread()).isEqualTo("modserv-llama-restart-"
          + Fixtures.tiny().getFileName());
      assertThat(victim.workerPid()).isNotEqualTo(pid).isPositive();
    } finally {
      victim.close();
    }
  }

  @Test
  void closingStopsTheWorkerProcess() throws Exception {
    WorkerModel m = (WorkerModel) new LlamaBackend().load(ModelSource.of(Fixtures.tiny())
        .withOption("context-size", "512"));
    ProcessHandle worker = ProcessHandle.of(m.workerPid()).orElseThrow();
    m.close();
    assertThat(worker.isAlive()).isFalse();
    assertThatThrownBy(() -> m.generate(greedy(4).build(), new Collector()))
        .isInstanceOf(ModelServingException.class)
        .extracting(e -> ((ModelServingException) e).code()).isEqualTo(ErrorCode.SHUTTING_DOWN);
  }
}
