package dev.modserv.api;

import java.time.Duration;

/**
 * Where a request's time went.
 *
 * @param queue from submission until its batch started in the engine
 * @param inference the engine's time for the batch the request ran in
 * @param total from submission until the result was ready
 */
public record Timings(Duration queue, Duration inference, Duration total) {
  /** Checks that no duration is negative. */
  public Timings {
    if (queue.isNegative() || inference.isNegative() || total.isNegative()) {
      throw new IllegalArgumentException("timings must not be negative: " + queue + ", "
          + inference + ", " + total);
    }
  }
}
