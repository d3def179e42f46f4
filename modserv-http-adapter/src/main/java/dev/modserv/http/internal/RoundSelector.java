package dev.modserv.http.internal;

import dev.modserv.core.RoundEnd;
import java.io.IOException;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
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
 * them while it still holds their keys. A handler that answers at once costs the same: no thread
 * woken, no selector woken, no change to what it watches. Without it, a batch run elsewhere
 * answered on another thread, which woke the selector for every connection it read again (docs/
 * performance.md).
 */
public final class RoundSelector extends ManagedSelector {
  private static final Logger LOG = LoggerFactory.getLogger(RoundSelector.class);
  /** The selector the current thread reads for, between its wait and the end of its round. */
  private static final ThreadLocal<RoundSelector> READING = new ThreadLocal<>();
  /** Set while the current thread runs a round's end. */
  private static final ThreadLocal<Boolean> ENDING = new ThreadLocal<>();

  private final RoundEnd roundEnd = this::runAtEnd;
  private final Object lock = new Object();
  /** Tasks for the next round end; a round end swaps it with {@link #spare}. */
  private List<Runnable> pending = new ArrayList<>();
  /** Only the round end uses it, on the selector's thread. */
  private List<Runnable> spare = new ArrayList<>();

  RoundSelector(SelectorManager manager, int id) {
    super(manager, id);
  }

  /** The round end of the selector this thread reads for; null on any other thread. */
  public static @Nullable RoundEnd current() {
    RoundSelector selector = READING.get();
    return selector == null ? null : selector.roundEnd;
  }

  /** Whether this thread is running a round's end. */
  static boolean endingHere() {
    return ENDING.get() != null;
  }

  /** A TCP connector whose selectors are round selectors. */
  public static ServerConnector tcp(Server server, int selectors, ConnectionFactory factory) {
    return new ServerConnector(server, -1, selectors, factory) {
      @Override
      protected SelectorManager newSelectorManager(Executor executor, Scheduler scheduler,
          int count) {
        return new ServerConnectorManager(executor, scheduler, count) {
          @Override
          protected ManagedSelector newSelector(int id) {
            return new RoundSelector(this, id);
          }
        };
      }
    };
  }

  /** A Unix-domain-socket connector whose selectors are round selectors. */
  public static UnixDomainServerConnector unixDomain(Server server, int selectors,
      ConnectionFactory factory) {
    return new UnixDomainServerConnector(server, -1, selectors, factory) {
      @Override
      protected SelectorManager newSelectorManager(Executor executor, Scheduler scheduler,
          int count) {
        return new UnixDomainSelectorManager(executor, scheduler, count) {
          @Override
          protected ManagedSelector newSelector(int id) {
            return new RoundSelector(this, id);
          }
        };
      }
    };
  }

  @Override
  protected int select(Selector selector) throws IOException {
    // Called by the thread that reads for this selector, between rounds: it waits here, then
    // reads what is ready.
    READING.remove();
    int selected = super.select(selector);
    READING.set(this);
    return selected;
  }

  private void runAtEnd(Runnable task) {
    boolean first;
    synchronized (lock) {
      // Given again, it moves to the end: a model's queue is pumped after the round's last call
      // to it is queued.
      for (int i = pending.size() - 1; i >= 0; i--) {
        if (pending.get(i) == task) {
          pending.remove(i);
          break;
        }
      }
      first = pending.isEmpty();
      pending.add(task);
    }
    if (first) {
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
    Error error = null;
    ENDING.set(Boolean.TRUE);
    try {
      // Every task runs, whatever one throws: each queues a call or pumps a model's queue, and a
      // call left out would never be answered.
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
    } finally {
      ENDING.remove();
      tasks.clear();
      spare = tasks;
    }
    if (error != null) {
      throw error;   // Jetty's selector logs it; a VirtualMachineError is not ours to swallow
    }
  }
}
