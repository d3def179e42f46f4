package dev.modserv.http.internal;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.util.thread.Scheduler;
import org.jspecify.annotations.Nullable;

/**
 * Closes a connection whose request headers take longer than the deadline to arrive (a slow-loris
 * client sending them a byte at a time, which Jetty's idle timeout alone never ends: each byte
 * resets it). Jetty exposes no header-read deadline, so a sweep looks at every open connection a
 * few times per deadline: bytes that came in while no request was open belong to the headers of
 * the next one, and once the first of them was seen longer ago than the deadline without the
 * headers completing, the connection is closed. Bodies have a deadline of their own (the router).
 */
public final class HeaderDeadline implements Connection.Listener {
  private final long deadlineNanos;
  private final Map<Connection, Progress> open = new ConcurrentHashMap<>();
  private volatile Scheduler.@Nullable Task sweep;

  /** What was seen of a connection at the last sweep. */
  private static final class Progress {
    long messagesIn;
    long messagesOut;
    long bytesIn;
    long headersSince = -1;
  }

  /** Headers must arrive within {@code deadline} of their first byte. */
  public HeaderDeadline(Duration deadline) {
    this.deadlineNanos = deadline.toNanos();
  }

  /** Sweeps every quarter deadline (at most every second) on {@code scheduler} from now on. */
  public void start(Scheduler scheduler) {
    long every = Math.max(10, Math.min(1000, TimeUnit.NANOSECONDS.toMillis(deadlineNanos) / 4));
    schedule(scheduler, every);
  }

  private void schedule(Scheduler scheduler, long everyMillis) {
    sweep = scheduler.schedule(() -> {
      sweep(System.nanoTime());
      if (sweep != null) {
        schedule(scheduler, everyMillis);
      }
    }, everyMillis, TimeUnit.MILLISECONDS);
  }

  /** Stops sweeping. */
  public void stop() {
    Scheduler.Task task = sweep;
    sweep = null;
    if (task != null) {
      task.cancel();
    }
  }

  @Override
  public void onOpened(Connection connection) {
    open.put(connection, new Progress());
  }

  @Override
  public void onClosed(Connection connection) {
    open.remove(connection);
  }

  void sweep(long now) {
    for (Map.Entry<Connection, Progress> e : open.entrySet()) {
      Connection c = e.getKey();
      Progress p = e.getValue();
      long in = c.getMessagesIn();
      long out = c.getMessagesOut();
      long bytes = c.getBytesIn();
      if (in != p.messagesIn || out != p.messagesOut) {
        // A request's headers completed, or its answer went out: start over from here.
        p.messagesIn = in;
        p.messagesOut = out;
        p.bytesIn = bytes;
        p.headersSince = -1;
      } else if (in <= out && bytes > p.bytesIn) {
        // Bytes while no request is open: the next request's headers, still incomplete.
        if (p.headersSince < 0) {
          p.headersSince = now;
        } else if (now - p.headersSince > deadlineNanos) {
          open.remove(c);
          c.close();
        }
      }
    }
  }
}
