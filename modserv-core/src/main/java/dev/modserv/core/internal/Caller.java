package dev.modserv.core.internal;

import dev.modserv.core.RoundEnd;
import org.jspecify.annotations.Nullable;

/**
 * Who submits a call, which decides where a batch that holds it may run (see {@link Batcher}).
 *
 * @param waits whether the caller blocks until the call is answered ({@code infer})
 * @param roundEnd the end of the caller's event-loop round, where the call's batch is formed;
 *     null when the caller is not an event loop
 */
public record Caller(boolean waits, @Nullable RoundEnd roundEnd) {
  /** A caller that waits for its answer. */
  public static final Caller WAITS = new Caller(true, null);
  /** A caller that does not wait and is not an event loop. */
  public static final Caller ASYNC = new Caller(false, null);

  /** An event loop that leaves its calls' batches to {@code roundEnd}. */
  public static Caller atEndOf(RoundEnd roundEnd) {
    return new Caller(false, roundEnd);
  }
}
