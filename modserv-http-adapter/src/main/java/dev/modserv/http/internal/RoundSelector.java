package dev.modserv.http.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.modserv.core.RoundEnd;
import java.io.IOException;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.ManagedSelector.SelectorUpdate;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.thread.Scheduler;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Jetty selector whose thread ends each round of reads by running the batches of the requests
 * it read in that round ({@link RoundEnd}).
 *
 * <p>A selector's thread reads every connection that is ready, then updates what the selector
 * watches, then waits. The router runs on that thread and queues each model call with this
 * selector's round end; the batcher forms the round's calls into one batch there, after the last
 * read, runs it on this thread when the engine is short and writes every answer, and the
 * connections are read again here (see {@link ResumingThreadPool}), asking the selector to watch
 * them while it still holds their keys. For the connections it read in the round, a request then
 * costs what a handler that answers at once costs: no thread woken, no selector woken, no change
 * to what it watches (a batch that also holds calls another selector read, which found no free
 * instance at its own round's end, asks that selector to watch them, as any thread would). Before,
 * a batch run on another thread answered there, which woke the selector for every connection it
 * read again (docs/performance.md).
 *
 * <p>Between rounds, a selector whose last wait was short polls before it sleeps ({@link
 * #nioSelect}).
 */
public final class RoundSelector extends ManagedSelector {
  private static final Logger LOG = LoggerFactory.getLogger(RoundSelector.class);
  /** The selector the current thread reads for, between its wait and the end of its round. */
  private static final ThreadLocal<RoundSelector> READING = new ThreadLocal<>();
  /** Set while the current thread runs a round's end. */
  private static final ThreadLocal<Boolean> ENDING = new ThreadLocal<>();

  private final RoundEnd roundEnd = this::runAtEnd;
  /**
   * The thread that reads for this selector now. Jetty may hand the reading to another thread
   * (while one runs a blocking task): the one it leaves keeps its {@link #READING} mark, which
   * counts only while it is still this thread.
   */
  private volatile @Nullable Thread reader;
  private final Object lock = new Object();
  /** Set once the selector has stopped: tasks then run at once, on the caller's thread. */
  @GuardedBy("lock")
  private boolean stopped;
  /** Tasks for the next round end; a round end swaps it with {@link #spare}. */
  @GuardedBy("lock")
  private List<Runnable> pending = new ArrayList<>();
  /** Only the round end uses it, on the selector's thread. */
  private List<Runnable> spare = new ArrayList<>();

  private final long spinNanos;

  RoundSelector(SelectorManager manager, int id, long spinNanos) {
    super(manager, id);
    this.spinNanos = spinNanos;
    this.recentWaitNanos = 4 * spinNanos;
  }

  /** The round end of the selector this thread reads for; null on any other thread. */
  public static @Nullable RoundEnd current() {
    RoundSelector selector = READING.get();
    return selector == null || selector.reader != Thread.currentThread() ? null
        : selector.roundEnd;
  }

  /** Whether this thread is running a round's end. */
  static boolean endingHere() {
    return ENDING.get() != null;
  }

  /**
   * The selectors a connector gets: half the cores, at least one, as Jetty's own default (its
   * pool's size allows up to 12). A selector per core answered about as many requests at 16
   * connections on 2 cores and doubled the p99: two selectors sharing the cores with everything
   * else take turns being descheduled, each stalling every connection it holds
   * (docs/performance.md).
   */
  public static int perConnector() {
    return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
  }

  /**
   * A TCP connector whose selectors are round selectors, each polling for up to {@code spin} after
   * a short wait before it sleeps (zero: never polls).
   */
  public static ServerConnector tcp(Server server, int selectors, Duration spin,
      ConnectionFactory factory) {
    long spinNanos = spin.toNanos();
    return new ServerConnector(server, -1, selectors, factory) {
      @Override
      protected SelectorManager newSelectorManager(Executor executor, Scheduler scheduler,
          int count) {
        return new ServerConnectorManager(executor, scheduler, count) {
          @Override
          protected ManagedSelector newSelector(int id) {
            return new RoundSelector(this, id, spinNanos);
          }
        };
      }
    };
  }

  /** A Unix-domain-socket connector whose selectors are round selectors, as {@link #tcp}. */
  public static UnixDomainServerConnector unixDomain(Server server, int selectors, Duration spin,
      ConnectionFactory factory) {
    long spinNanos = spin.toNanos();
    return new UnixDomainServerConnector(server, -1, selectors, factory) {
      @Override
      protected SelectorManager newSelectorManager(Executor executor, Scheduler scheduler,
          int count) {
        return new UnixDomainSelectorManager(executor, scheduler, count) {
          @Override
          protected ManagedSelector newSelector(int id) {
            return new RoundSelector(this, id, spinNanos);
          }
        };
      }
    };
  }

  /**
   * Counts each update submitted twice, before it is queued and after: a wait that finds it moved
   * knows that an update may wait whose wake-up a poll took (or is about to be queued, with its
   * wake-up).
   */
  private final AtomicLong submits = new AtomicLong();
  /**
   * Set while the selecting thread waits without polling: an update counted then wakes it again,
   * as a poll may have taken the wake-up its queuing gave.
   */
  private volatile boolean blocking;
  /** How many threads dump this selector now: Jetty queues a dump's update without submit. */
  private final AtomicInteger dumping = new AtomicInteger();
  /**
   * The count of {@link #submits} the last wait saw as it returned; every update counted then is
   * applied before the next wait. This and {@link #recentWaitNanos} are only used by the selecting
   * thread: Jetty hands selecting from one thread to another under its own lock.
   */
  private long applied;
  /**
   * A moving average of how long the selector waited for a connection to be ready (a quarter the
   * last wait, at most four spins, and three quarters the average before); it polls while that
   * is within the spin. Waits cut short by an update are left out: they say nothing of when
   * requests come. A request read in two parts, a long wait then a short one, does not bring the
   * average under the spin; after an idle hour, five short waits do.
   */
  private long recentWaitNanos;
  /** How many polls began; read by tests and Jetty's JMX. */
  private volatile long polls;

  @Override
  public void submit(SelectorUpdate update) {
    submits.incrementAndGet();
    super.submit(update);
    submits.incrementAndGet();
    if (blocking) {
      Selector selector = getSelector();
      if (selector != null) {
        selector.wakeup();
      }
    }
  }

  @Override
  public void dump(Appendable out, String indent) throws IOException {
    dumping.incrementAndGet();
    try {
      super.dump(out, indent);
    } finally {
      dumping.decrementAndGet();
    }
  }

  /** How many times this selector began to poll before it sleeps. */
  @ManagedAttribute("polls begun before the selector sleeps")
  public long getPolls() {
    return polls;
  }

  /**
   * Waits for the next ready connection. While its requests come within {@code spinNanos} of each
   * other (on average, {@link #recentWaitNanos}), a selector polls for the next one for up to that
   * long before it sleeps: a request that comes soon is then read by a thread that is awake, on a
   * core whose caches still hold the model's data. A selector whose requests come further apart
   * sleeps at once.
   *
   * <p>A poll consumes a wake-up given to the selector. Jetty gives one when it queues an update
   * for the waiting selector; so a poll that sees the count of submitted updates move, or a dump
   * begin, returns, and the selector applies the update. An update counted only after the last
   * poll wakes the selector itself ({@link #blocking}). One case is late rather than lost: a
   * submitting thread held up between queuing its update and counting it again, after this
   * selector returned for its first count, delays the update until it runs again.
   */
  @Override
  protected int nioSelect(Selector selector, boolean now) throws IOException {
    if (now || spinNanos == 0) {
      return super.nioSelect(selector, now);
    }
    long start = System.nanoTime();
    int selected = 0;
    try {
      if (updateWaits()) {
        selected = selector.selectNow();
        return selected;
      }
      if (recentWaitNanos <= spinNanos) {
        polls++;   // only this thread writes it
        do {
          selected = selector.selectNow();
          if (selected > 0 || updateWaits()) {
            return selected;
          }
          Thread.onSpinWait();
        } while (System.nanoTime() - start < spinNanos);
      }
      blocking = true;
      selected = updateWaits() ? selector.selectNow() : selector.select();
      return selected;
    } finally {
      blocking = false;
      applied = submits.get();
      long waited = System.nanoTime() - start;
      if (selected > 0 || waited > spinNanos) {
        recentWaitNanos += (Math.min(waited, 4 * spinNanos) - recentWaitNanos) >> 2;
      }
    }
  }

  private boolean updateWaits() {
    return submits.get() != applied || dumping.get() > 0;
  }

  @Override
  protected int select(Selector selector) throws IOException {
    // Called by the thread that reads for this selector, between rounds: it waits here, then
    // reads what is ready.
    READING.remove();
    int selected = super.select(selector);
    reader = Thread.currentThread();
    READING.set(this);
    return selected;
  }

  @Override
  protected void doStop() throws Exception {
    super.doStop();
    // A stopped selector runs no more updates: what waits for a round's end runs here, so that
    // every call is queued (and answered: the model's queue is pumped) or refused.
    List<Runnable> left;
    synchronized (lock) {
      stopped = true;
      left = pending;
      pending = new ArrayList<>();
    }
    runAll(left);
  }

  private void runAtEnd(Runnable task) {
    boolean first = false;
    boolean runNow = false;
    synchronized (lock) {
      if (stopped) {
        runNow = true;
      } else {
        // Given again, it moves to the end: a model's queue is pumped after the round's last
        // call to it is queued.
        for (int i = pending.size() - 1; i >= 0; i--) {
          if (pending.get(i) == task) {
            pending.remove(i);
            break;
          }
        }
        first = pending.isEmpty();
        pending.add(task);
      }
    }
    if (runNow) {
      task.run();
    } else if (first) {
      // Run with the selector's own updates: after the round's last read, before what it
      // watches is changed and it waits again. From the reading thread, that wakes nothing.
      submit(selector -> end());
    }
  }

  private void end() {
    List<Runnable> tasks;
    synchronized (lock) {
      tasks = pending;
      pending = spare;
    }
    ENDING.set(Boolean.TRUE);
    try {
      runAll(tasks);
    } finally {
      ENDING.remove();
      tasks.clear();
      spare = tasks;
    }
  }

  /**
   * Runs every task, whatever one throws: each queues a call or pumps a model's queue, and a call
   * left out would never be answered. The first Error is thrown after them all.
   */
  private static void runAll(List<Runnable> tasks) {
    Error error = null;
    for (int i = 0; i < tasks.size(); i++) {
      try {
        tasks.get(i).run();
      } catch (RuntimeException e) {
        LOG.warn("a task at the end of a selector's round failed", e);
      } catch (Error e) {
        if (error == null) {
          error = e;
        }
      }
    }
    if (error != null) {
      throw error;   // Jetty's selector logs what its updates throw
    }
  }
}
