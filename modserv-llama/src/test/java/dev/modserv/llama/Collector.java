package dev.modserv.llama;

import dev.modserv.api.FinishReason;
import dev.modserv.api.Usage;
import dev.modserv.spi.GenerationSink;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Collects one generation delivered to a sink, for engine-level tests. */
final class Collector implements GenerationSink {
  record End(FinishReason reason, Usage usage, String text, int steps) {}

  final List<String> pieces = new CopyOnWriteArrayList<>();
  final CompletableFuture<End> end = new CompletableFuture<>();
  final CountDownLatch firstToken = new CountDownLatch(1);
  volatile long firstTokenNanos;
  volatile long endNanos;
  volatile int steps;
  volatile int promptTokens = -1;
  /** Every thread that delivered an event. */
  final java.util.Set<String> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @Override
  public void prompt(int promptTokens) {
    threads.add(Thread.currentThread().getName());
    this.promptTokens = promptTokens;
  }

  @Override
  public void token(String text, int tokens) {
    threads.add(Thread.currentThread().getName());
    if (firstTokenNanos == 0) {
      firstTokenNanos = System.nanoTime();
    }
    pieces.add(text);
    steps += tokens;
    firstToken.countDown();
  }

  @Override
  public void complete(FinishReason reason, Usage usage) {
    threads.add(Thread.currentThread().getName());
    endNanos = System.nanoTime();
    end.complete(new End(reason, usage, String.join("", pieces), steps));
  }

  @Override
  public void fail(Throwable error) {
    threads.add(Thread.currentThread().getName());
    end.completeExceptionally(error);
  }

  End await() throws Exception {
    return end.get(60, TimeUnit.SECONDS);
  }

  boolean awaitFirstToken() throws InterruptedException {
    return firstToken.await(30, TimeUnit.SECONDS);
  }
}
