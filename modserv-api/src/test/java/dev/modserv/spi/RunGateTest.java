package dev.modserv.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RunGateTest {

  @Test
  void closeWaitsForTheRunInProgressAndThenRefusesRuns() throws Exception {
    RunGate gate = new RunGate();
    gate.enter();
    CompletableFuture<Boolean> close = CompletableFuture.supplyAsync(gate::closeAndAwait);
    Thread.sleep(50);
    assertThat(close).as("close waits for the run").isNotDone();
    gate.exit();
    assertThat(close.get(10, TimeUnit.SECONDS)).isTrue();
    assertThatThrownBy(gate::enter).isInstanceOf(IllegalStateException.class)
        .hasMessage("the model is closed");
  }

  @Test
  void exactlyOneOfManyConcurrentClosesFreesTheHandle() throws Exception {
    RunGate gate = new RunGate();
    AtomicInteger winners = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      threads.add(Thread.ofPlatform().start(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        if (gate.closeAndAwait()) {
          winners.incrementAndGet();
        }
      }));
    }
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }
    assertThat(winners).hasValue(1);
  }
}
