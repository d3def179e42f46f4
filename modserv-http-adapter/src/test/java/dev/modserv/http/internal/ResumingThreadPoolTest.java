package dev.modserv.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.ByteArrayEndPoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ResumingThreadPoolTest {
  private final ResumingThreadPool pool = new ResumingThreadPool();

  @BeforeEach
  void start() throws Exception {
    pool.start();
  }

  @AfterEach
  void stop() throws Exception {
    pool.stop();
  }

  /** A connection whose run (Jetty's resume) records the thread it ran on. */
  static final class Resumed extends AbstractConnection implements Runnable {
    final CompletableFuture<Thread> ranOn = new CompletableFuture<>();
    Runnable alsoRun = () -> { };

    Resumed() {
      super(new ByteArrayEndPoint(), Runnable::run);
    }

    @Override
    public void onFillable() {
    }

    @Override
    public void run() {
      ranOn.complete(Thread.currentThread());
      alsoRun.run();
    }
  }

  private static Thread onVirtualThread(Runnable task) throws InterruptedException {
    Thread thread = Thread.ofVirtual().start(task);
    thread.join(5_000);
    return thread;
  }

  @Test
  void aConnectionResumedOnAVirtualThreadRunsThere() throws Exception {
    Resumed connection = new Resumed();
    Thread batchThread = onVirtualThread(() -> pool.execute(connection));
    assertThat(connection.ranOn.get(5, TimeUnit.SECONDS)).isSameAs(batchThread);
  }

  @Test
  void aConnectionResumedOnAPlatformThreadGoesToThePool() throws Exception {
    Resumed connection = new Resumed();
    pool.execute(connection);
    Thread ranOn = connection.ranOn.get(5, TimeUnit.SECONDS);
    assertThat(ranOn).isNotSameAs(Thread.currentThread());
    assertThat(ranOn.isVirtual()).isFalse();
  }

  @Test
  void otherTasksFromAVirtualThreadGoToThePool() throws Exception {
    CompletableFuture<Thread> ranOn = new CompletableFuture<>();
    Thread batchThread = onVirtualThread(() -> pool.execute(
        () -> ranOn.complete(Thread.currentThread())));
    assertThat(ranOn.get(5, TimeUnit.SECONDS)).isNotSameAs(batchThread);
  }

  @Test
  void aResumeInsideAResumeGoesToThePool() throws Exception {
    Resumed outer = new Resumed();
    Resumed inner = new Resumed();
    Resumed later = new Resumed();
    outer.alsoRun = () -> pool.execute(inner);
    Thread batchThread = onVirtualThread(() -> {
      pool.execute(outer);
      pool.execute(later);   // the guard is cleared once the outer resume returned
    });
    assertThat(outer.ranOn.get(5, TimeUnit.SECONDS)).isSameAs(batchThread);
    assertThat(inner.ranOn.get(5, TimeUnit.SECONDS)).isNotSameAs(batchThread);
    assertThat(later.ranOn.get(5, TimeUnit.SECONDS)).isSameAs(batchThread);
  }

  @Test
  void aResumeThatThrowsClosesItsConnectionAndTheThreadGoesOn() throws Exception {
    Resumed failing = new Resumed();
    failing.alsoRun = () -> {
      throw new IllegalStateException("a connection that cannot resume");
    };
    Resumed next = new Resumed();
    Thread batchThread = onVirtualThread(() -> {
      pool.execute(failing);
      pool.execute(next);
    });
    assertThat(failing.ranOn.get(5, TimeUnit.SECONDS)).isSameAs(batchThread);
    assertThat(next.ranOn.get(5, TimeUnit.SECONDS)).isSameAs(batchThread);
    assertThat(failing.getEndPoint().isOpen()).isFalse();
    assertThat(next.getEndPoint().isOpen()).isTrue();
  }
}
