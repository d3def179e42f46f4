package dev.modserv.core;

import dev.modserv.api.Tensor;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Holds every engine call whose first input value is 42 inside the engine until {@link #open()}:
 * pass it to {@code FakeBackend.builder().duringRun(gate)} to keep an instance busy on purpose.
 */
final class Gate implements Consumer<Map<String, Tensor>> {
  private final CountDownLatch entered;
  private final CountDownLatch release = new CountDownLatch(1);

  Gate() {
    this(1);
  }

  /** A gate that {@link #awaitEntered()} waits on until {@code calls} calls are held. */
  Gate(int calls) {
    this.entered = new CountDownLatch(calls);
  }

  @Override
  public void accept(Map<String, Tensor> inputs) {
    Tensor x = inputs.get("x");
    if (x != null && x.toFloatArray()[0] == 42) {
      entered.countDown();
      ModelServerTest.await(release);
    }
  }

  /** Waits until the held calls are inside the engine. */
  void awaitEntered() throws InterruptedException {
    if (!entered.await(10, TimeUnit.SECONDS)) {
      throw new AssertionError("no call reached the engine in 10 s");
    }
  }

  /** Lets held calls, and any later ones, through. */
  void open() {
    release.countDown();
  }
}
