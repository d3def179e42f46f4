package dev.modserv.api;

import java.time.Duration;

/**
 * Where a request's time went.
 *
 * @param queue from submission (after preprocessing) until its batch started in the engine
 * @param inference the engine's time for the batch the request ran in
 * @param total from submission until the result was ready, pre- and post-processing included
 * @param preprocessing the time its inputs took to preprocess; zero when there was none
 * @param postprocessing the time its outputs took to postprocess; zero when there was none
 */
public record Timings(Duration queue, Duration inference, Duration total, Duration preprocessing,
    Duration postprocessing) {
  /** Checks that no duration is negative. */
  public Timings {
    if (queue.isNegative() || inference.isNegative() || total.isNegative()
        || preprocessing.isNegative() || postprocessing.isNegative()) {
      throw new IllegalArgumentException("timings must not be negative: " + queue + ", "
          + inference + ", " + total + ", " + preprocessing + ", " + postprocessing);
    }
  }

  /** Timings of a request without pre- or post-processing. */
  public Timings(Duration queue, Duration inference, Duration total) {
    this(queue, inference, total, Duration.ZERO, Duration.ZERO);
  }
}
