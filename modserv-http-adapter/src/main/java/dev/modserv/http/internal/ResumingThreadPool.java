package dev.modserv.http.internal;

import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jetty's thread pool, except that a connection resumed by a batch's thread is resumed there.
 *
 * <p>When an answer is written by a thread that is not reading the connection (a batch that ran
 * on the batcher's executor answers its calls there; a selector's round end answers what it read),
 * Jetty hands the connection to its pool to read the next request: one pool thread woken, and
 * parked again, for every request. On a virtual thread (the batcher's; Jetty's own threads are
 * platform threads) and in a selector's round end ({@link RoundSelector}) this pool runs that
 * resume in place instead: a read that usually finds nothing yet and asks the selector to watch
 * the connection, which a pool thread would do too (in a round end, before the selector applies
 * its updates, so that nothing changes). A resume that comes while one already runs in place on
 * the same thread (the request it read ran at once, in a batch that also answered another
 * connection) goes to the pool, so that resumes never nest on one thread.
 */
public final class ResumingThreadPool extends QueuedThreadPool {
  private static final Logger LOG = LoggerFactory.getLogger(ResumingThreadPool.class);
  /**
   * Set while this thread resumes a connection in place. A flag kept per thread, not a value set
   * and removed: that would add and drop an entry of the thread's map on every request.
   */
  private static final ThreadLocal<boolean[]> RESUMING =
      ThreadLocal.withInitial(() -> new boolean[1]);

  @Override
  public void execute(Runnable job) {
    if (job instanceof Connection
        && (Thread.currentThread().isVirtual() || RoundSelector.endingHere())
        && isRunning()) {
      boolean[] resuming = RESUMING.get();
      if (resuming[0]) {
        super.execute(job);
        return;
      }
      resuming[0] = true;
      try {
        job.run();
      } catch (RuntimeException e) {
        // Logged, as the pool would, and the batch's thread goes on answering its other calls;
        // the connection, in no known state, is closed rather than left to its idle timeout. An
        // Error is not caught: it reaches the batcher, which lets a VirtualMachineError out.
        LOG.warn("resuming a connection failed", e);
        ((Connection) job).close();
      } finally {
        resuming[0] = false;
      }
      return;
    }
    super.execute(job);
  }
}
