package dev.modserv.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationListener;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.api.GenerationStream;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.Usage;
import dev.modserv.spi.Backend;
import dev.modserv.spi.GenerationHandle;
import dev.modserv.spi.GenerationSink;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.FakeBackend;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** ModelServer.generate with a fake generative engine that echoes its prompt, a token a char. */
class GenerateTest {

  /**
   * Echoes the prompt, one character per token, each step waiting for a permit when paced; two
   * sequences; a prompt starting with "fail" fails after its first token, and one starting with
   * "ack" ends CANCELLED at once when cancelled, on the cancelling thread.
   */
  static final class Echo implements Backend {
    final Semaphore steps = new Semaphore(1_000_000);
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger cancels = new AtomicInteger();

    @Override
    public String name() {
      return "echo";
    }

    @Override
    public boolean supports(ModelSource source) {
      return source.fileName().endsWith(".echo");
    }

    @Override
    public LoadedModel load(ModelSource source) {
      ModelMetadata metadata = ModelMetadata.builder("echo")
          .capabilities(Capability.GENERATIVE).build();
      return new LoadedModel() {
        @Override
        public ModelMetadata metadata() {
          return metadata;
        }

        @Override
        public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs) {
          throw new UnsupportedOperationException();
        }

        @Override
        public int generationSlots() {
          return 2;
        }

        @Override
        public GenerationHandle generate(GenerationRequest request, GenerationSink sink) {
          String prompt = request.prompt().orElseThrow();
          running.incrementAndGet();
          boolean[] cancelled = {false};
          Thread.ofVirtual().start(() -> {
            try {
              sink.prompt(prompt.length());
              int n = Math.min(prompt.length(), request.maxTokens());
              for (int i = 0; i < n; i++) {
                steps.acquire();
                synchronized (cancelled) {
                  if (cancelled[0]) {
                    return;
                  }
                }
                sink.token(prompt.substring(i, i + 1), 1);
                if (prompt.startsWith("fail")) {
                  sink.fail(new IllegalStateException("engine broke"));
                  return;
                }
              }
              sink.complete(n < prompt.length() ? FinishReason.LENGTH : FinishReason.STOP,
                  new Usage(prompt.length(), n));
            } catch (InterruptedException e) {
              sink.fail(e);
            } finally {
              running.decrementAndGet();
            }
          });
          return () -> {
            synchronized (cancelled) {
              cancelled[0] = true;
            }
            cancels.incrementAndGet();
            if (prompt.startsWith("ack")) {
              sink.complete(FinishReason.CANCELLED, new Usage(prompt.length(), 0));
            }
          };
        }

        @Override
        public void close() {}
      };
    }
  }

  private final Echo echo = new Echo();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final ModelServer server = ModelServer.builder().backend(echo)
      .backend(FakeBackend.create()).discoverBackends(false).meterRegistry(meters).build();

  @AfterEach
  void close() {
    echo.steps.release(1_000_000);
    server.close();
  }

  private void load(int maxQueue) {
    server.registry().configure("echo", ModelConfig.builder().drainGrace(Duration.ZERO)
        .batching(BatchingPolicy.builder().maxQueueSize(maxQueue).build()).build());
    server.registry().load("echo", 1, Path.of("m.echo")).join();
  }

  private static GenerationRequest request(String prompt, int maxTokens) {
    return GenerationRequest.builder("echo").prompt(prompt).maxTokens(maxTokens).build();
  }

  private static ErrorCode codeOf(Runnable r) {
    try {
      r.run();
    } catch (ModelServingException e) {
      return e.code();
    }
    throw new AssertionError("no ModelServingException");
  }

  @Test
  void streamsChunksThenALastOneWithReasonUsageAndTimings() {
    load(8);
    List<GenerationChunk> chunks = new ArrayList<>();
    server.generate(request("hello", 100)).iterator().forEachRemaining(chunks::add);
    assertThat(chunks).hasSize(6);
    assertThat(chunks.subList(0, 5)).extracting(GenerationChunk::text)
        .containsExactly("h", "e", "l", "l", "o");
    assertThat(chunks.get(4).completionTokens()).isEqualTo(5);
    GenerationChunk last = chunks.get(5);
    assertThat(last.last()).isTrue();
    assertThat(last.finishReason()).isEqualTo(FinishReason.STOP);
    assertThat(last.usage()).isEqualTo(new Usage(5, 5));
    assertThat(last.timings().timeToFirstTokenNanos()).isPositive();
    assertThat(last.timings().totalNanos())
        .isGreaterThanOrEqualTo(last.timings().timeToFirstTokenNanos());
  }

  @Test
  void resultCollectsTheTextAndReportsLength() {
    load(8);
    GenerationResult r = server.complete(request("hello world", 4));
    assertThat(r.text()).isEqualTo("hell");
    assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
    assertThat(r.usage()).isEqualTo(new Usage(11, 4));
    assertThat(server.generate(request("abc", 10)).stream().filter(c -> !c.last())
        .map(GenerationChunk::text).reduce("", String::concat)).isEqualTo("abc");
  }

  @Test
  void aStreamIsReadOnce() {
    load(8);
    GenerationStream s = server.generate(request("ab", 10));
    s.result();
    assertThatThrownBy(s::iterator).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("read once");
  }

  @Test
  void publisherDeliversOnlyWhatWasRequested() throws Exception {
    load(8);
    Collector c = new Collector(2);
    server.generate(request("abcd", 10)).subscribe(c);
    Thread.sleep(100);
    assertThat(c.got).containsExactly("a", "b");
    c.subscription.request(10);
    assertThat(c.done.get(5, TimeUnit.SECONDS)).containsExactly("a", "b", "c", "d", "<stop>");
  }

  /** Collects what a subscriber is given: texts, "<reason>" for the last chunk, errors. */
  private static final class Collector implements Flow.Subscriber<GenerationChunk> {
    final List<String> got = new CopyOnWriteArrayList<>();
    final CompletableFuture<List<String>> done = new CompletableFuture<>();
    final long demand;
    volatile Flow.Subscription subscription;

    Collector(long demand) {
      this.demand = demand;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      s.request(demand);
    }

    @Override
    public void onNext(GenerationChunk item) {
      got.add(item.last() ? "<" + item.finishReason().tag() + ">" : item.text());
    }

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      done.complete(got);
    }
  }

  private static CompletableFuture<List<String>> collect(GenerationStream stream) {
    Collector c = new Collector(Long.MAX_VALUE);
    stream.subscribe(c);
    return c.done;
  }

  @Test
  void aSubscriberThatComesAfterTheEndIsGivenEveryChunk() throws Exception {
    load(8);
    GenerationStream s = server.generate(request("abc", 10));
    // The delivery starts with the first event; here every event is queued before subscribe.
    dev.modserv.core.internal.Generation g = (dev.modserv.core.internal.Generation) s;
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!g.isDone() && System.nanoTime() < until) {
      Thread.sleep(1);
    }
    assertThat(g.isDone()).isTrue();
    assertThat(collect(s).get(5, TimeUnit.SECONDS)).containsExactly("a", "b", "c", "<stop>");
  }

  @Test
  void aSubscriberWaitingInTheQueueIsGivenItsChunksOrItsRefusal() throws Exception {
    load(1);
    echo.steps.drainPermits();
    GenerationStream a = server.generate(request("aa", 10));
    GenerationStream b = server.generate(request("bb", 10));
    CompletableFuture<List<String>> queued = collect(server.generate(request("cd", 10)));
    CompletableFuture<List<String>> refused = collect(server.generate(request("ef", 10)));
    assertThatThrownBy(() -> refused.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(ModelServingException.class)
        .cause().satisfies(e -> assertThat(((ModelServingException) e).code())
            .isEqualTo(ErrorCode.QUEUE_FULL));
    assertThat(queued).isNotDone();
    a.cancel();
    b.cancel();
    echo.steps.release(100);
    assertThat(queued.get(5, TimeUnit.SECONDS)).containsExactly("c", "d", "<stop>");
  }

  @Test
  void listenerReceivesChunksAndCompletion() throws Exception {
    load(8);
    StringBuilder text = new StringBuilder();
    CompletableFuture<FinishReason> end = new CompletableFuture<>();
    server.generate(request("xyz", 10), new GenerationListener() {
      @Override
      public void onChunk(GenerationChunk chunk) {
        text.append(chunk.text());
        chunk.finish().ifPresent(end::complete);
      }

      @Override
      public void onError(ModelServingException error) {
        end.completeExceptionally(error);
      }
    });
    assertThat(end.get(5, TimeUnit.SECONDS)).isEqualTo(FinishReason.STOP);
    assertThat(text).hasToString("xyz");
  }

  @Test
  void listenerIsCalledOnTheEngineThreadWithoutADeliveryThread() throws Exception {
    load(8);
    List<Thread> threads = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> end = new CompletableFuture<>();
    server.generate(request("abcd", 10), new GenerationListener() {
      @Override
      public void onChunk(GenerationChunk chunk) {
        threads.add(Thread.currentThread());
      }

      @Override
      public void onComplete() {
        end.complete(null);
      }

      @Override
      public void onError(ModelServingException error) {
        end.completeExceptionally(error);
      }
    });
    end.get(5, TimeUnit.SECONDS);
    // Four tokens and the last chunk, all on the one thread the echo engine generates on.
    assertThat(threads).hasSize(5).allSatisfy(t -> assertThat(t).isSameAs(threads.get(0)));
    assertThat(threads.get(0).getName()).isNotEqualTo("modserv-generation-delivery");
  }

  @Test
  void aListenerThatThrowsCancelsTheGenerationAndHearsNoMore() throws Exception {
    load(8);
    AtomicInteger chunks = new AtomicInteger();
    AtomicInteger ends = new AtomicInteger();
    server.generate(request("a".repeat(50), 100), new GenerationListener() {
      @Override
      public void onChunk(GenerationChunk chunk) {
        chunks.incrementAndGet();
        throw new IllegalStateException("listener broke");
      }

      @Override
      public void onComplete() {
        ends.incrementAndGet();
      }

      @Override
      public void onError(ModelServingException error) {
        ends.incrementAndGet();
      }
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (echo.cancels.get() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(echo.cancels.get()).isEqualTo(1);
    assertThat(chunks.get()).isEqualTo(1);
    assertThat(ends.get()).isZero();
  }

  @Test
  void cancellingMidStreamCancelsTheEngineAndFreesTheSequence() {
    load(8);
    echo.steps.drainPermits();
    GenerationStream a = server.generate(request("a".repeat(50), 100));
    echo.steps.release(1);
    Iterator<GenerationChunk> it = a.iterator();
    assertThat(it.next().text()).isEqualTo("a");
    GenerationStream b = server.generate(request("b".repeat(50), 100));
    GenerationStream waiting = server.generate(request("cc", 100));
    a.cancel();
    List<GenerationChunk> rest = new ArrayList<>();
    it.forEachRemaining(rest::add);
    assertThat(rest).last().satisfies(c -> assertThat(c.finishReason())
        .isEqualTo(FinishReason.CANCELLED));
    assertThat(echo.cancels.get()).isEqualTo(1);
    // The waiting request got a's sequence while b still holds the other one.
    echo.steps.release(1_000);
    assertThat(waiting.result().text()).isEqualTo("cc");
    assertThat(b.result().text()).hasSize(50);
  }

  @Test
  void aFullQueueRefusesAndAWaitingRequestTimesOut() {
    load(1);
    echo.steps.drainPermits();
    GenerationStream a = server.generate(request("aaaa", 10));
    GenerationStream b = server.generate(request("bbbb", 10));
    GenerationStream queued = server.generate(GenerationRequest.builder("echo").prompt("c")
        .timeout(Duration.ofMillis(50)).build());
    GenerationStream refused = server.generate(request("d", 10));
    assertThat(codeOf(refused::result)).isEqualTo(ErrorCode.QUEUE_FULL);
    assertThat(codeOf(queued::result)).isEqualTo(ErrorCode.TIMEOUT);
    a.cancel();
    b.cancel();
  }

  @Test
  void aRunningGenerationPastItsDeadlineEndsWithTimeoutCancelsTheEngineAndFreesItsSequence() {
    load(8);
    echo.steps.drainPermits();
    GenerationStream a = server.generate(GenerationRequest.builder("echo").prompt("a".repeat(50))
        .maxTokens(100).timeout(Duration.ofMillis(150)).build());
    GenerationStream b = server.generate(request("b".repeat(50), 100));
    GenerationStream waiting = server.generate(request("cc", 100));
    echo.steps.release(1);
    Iterator<GenerationChunk> it = a.iterator();
    assertThat(it.next().text()).isNotEmpty();
    long start = System.nanoTime();
    assertThat(codeOf(() -> it.forEachRemaining(c -> { })))
        .isEqualTo(ErrorCode.TIMEOUT);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    assertThat(echo.cancels.get()).isEqualTo(1);
    assertThat(meters.get("modserv.generations").tag("finish_reason", "error").counter()
        .count()).isEqualTo(1);
    // The waiting request got a's sequence while b still holds the other one.
    echo.steps.release(1_000);
    assertThat(waiting.result().text()).isEqualTo("cc");
    assertThat(b.result().text()).hasSize(50);
  }

  @Test
  void aGenerationPastItsDeadlineEndsWithTimeoutThoughTheEngineAcknowledgesTheStopAtOnce() {
    load(8);
    echo.steps.drainPermits();
    GenerationRequest acked = GenerationRequest.builder("echo").prompt("ack".repeat(20))
        .maxTokens(60).timeout(Duration.ofMillis(100)).build();
    // Whole and streamed: the engine's CANCELLED, which the stop itself brings, is not the end.
    assertThat(codeOf(() -> server.complete(acked))).isEqualTo(ErrorCode.TIMEOUT);
    GenerationStream s = server.generate(acked);
    assertThat(codeOf(() -> s.iterator().forEachRemaining(c -> { })))
        .isEqualTo(ErrorCode.TIMEOUT);
    assertThat(echo.cancels.get()).isEqualTo(2);
    assertThat(meters.get("modserv.generations").tag("finish_reason", "error").counter()
        .count()).isEqualTo(2);
  }

  @Test
  void unknownNonGenerativeAndClosedAreRefused() {
    load(8);
    assertThat(codeOf(() -> server.complete(GenerationRequest.builder("nope").prompt("x")
        .build()))).isEqualTo(ErrorCode.MODEL_NOT_FOUND);
    server.registry().load("f", 1, Path.of("f.fake")).join();
    assertThat(codeOf(() -> server.complete(GenerationRequest.builder("f").prompt("x")
        .build()))).isEqualTo(ErrorCode.INVALID_INPUT);
    server.close();
    assertThat(codeOf(() -> server.complete(request("x", 1))))
        .isEqualTo(ErrorCode.SHUTTING_DOWN);
  }

  @Test
  void unloadingFailsWaitingGenerationsWithShuttingDown() {
    load(8);
    echo.steps.drainPermits();
    GenerationStream a = server.generate(request("aaaa", 10));
    GenerationStream b = server.generate(request("bbbb", 10));
    GenerationStream waiting = server.generate(request("c", 10));
    CompletableFuture<Void> unloaded = server.registry().unload("echo", 1);
    assertThat(codeOf(waiting::result)).isEqualTo(ErrorCode.SHUTTING_DOWN);
    echo.steps.release(100);
    assertThat(a.result().text()).isEqualTo("aaaa");
    assertThat(b.result().text()).isEqualTo("bbbb");
    unloaded.join();
  }

  @Test
  void anEngineFailureMidStreamEndsWithBackendError() {
    load(8);
    Iterator<GenerationChunk> it = server.generate(request("failing", 10)).iterator();
    assertThat(it.next().text()).isEqualTo("f");
    assertThatThrownBy(it::hasNext).isInstanceOf(ModelServingException.class)
        .satisfies(e -> assertThat(((ModelServingException) e).code())
            .isEqualTo(ErrorCode.BACKEND_ERROR))
        .hasMessageContaining("engine broke");
  }

  @Test
  void aRegisteredModelLoadsOnTheFirstGeneration() {
    server.registry().register("lazy", 1, Path.of("lazy.echo"));
    assertThat(server.complete(GenerationRequest.builder("lazy").prompt("ok").build()).text())
        .isEqualTo("ok");
  }

  @Test
  void aDroppedStreamIsCancelled() throws Exception {
    load(8);
    echo.steps.drainPermits();
    server.generate(request("z".repeat(20), 100));
    for (int i = 0; i < 100 && echo.cancels.get() == 0; i++) {
      System.gc();
      Thread.sleep(20);
    }
    assertThat(echo.cancels.get()).isEqualTo(1);
  }

  @Test
  void recordsGenerationMetrics() {
    load(8);
    server.complete(request("hello", 3));
    server.complete(request("hi", 10));
    assertThat(meters.get("modserv.generations").tag("finish_reason", "length").counter()
        .count()).isEqualTo(1);
    assertThat(meters.get("modserv.generations").tag("finish_reason", "stop").counter()
        .count()).isEqualTo(1);
    assertThat(meters.get("modserv.generation.tokens").tag("kind", "prompt").counter().count())
        .isEqualTo(7);
    assertThat(meters.get("modserv.generation.tokens").tag("kind", "completion").counter()
        .count()).isEqualTo(5);
    assertThat(meters.get("modserv.generation.ttft").timer().count()).isEqualTo(2);
    assertThat(meters.get("modserv.generation.tpot").timer().count()).isEqualTo(2);
    assertThat(meters.get("modserv.generation.tokens.per.second").summary().count())
        .isEqualTo(2);
    assertThat(meters.get("modserv.generation.running").gauge().value()).isZero();
    assertThat(meters.get("modserv.generation.waiting").gauge().value()).isZero();
  }
}
