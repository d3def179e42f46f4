package dev.modserv.api;

import java.time.Duration;

/**
 * Where a request's time went.
 *
 * @param queue from submission (after preprocessing) until its batch started in the engine; zero
 *     for an answer from the response cache
 * @param inference the engine's time for the batch the request ran in; zero for an answer from the
 *     response cache
 * @param total from submission until the result was ready, pre- and post-processing included
 * @param preprocessing the time its inputs took to preprocess; zero when there was none
 * @param postprocessing the time its outputs took to postprocess; zero when there was none
 * @param cached whether the answer came from the model's response cache (or from an identical
 *     request that was running at the same time) instead of an engine call of its own
 */
public record Timings(Duration queue, Duration inference, Duration total, Duration preprocessing,
    Duration postprocessing, boolean cached) {
  /** Checks that no duration is negative. */
  public Timings {
    if (queue.isNegative() || inference.isNegative() || total.isNegative()
        || preprocessing.isNegative() || postprocessing.isNegative()) {
      throw new IllegalArgumentException("timings must not be negative: " + queue + ", "
          + inference + ", " + total + ", " + preprocessing + ", " + postprocessing);
    }
  }

  /** Timings of a request the engine ran. */
  public Timings(Duration queue, Duration inference, Duration total, Duration preprocessing,
      Duration postprocessing) {
    this(queue, inference, total, preprocessing, postprocessing, false);
  }

  /** Timings of a request the engine ran, without pre- or post-processing. */
  public Timings(Duration queue, Duration inference, Duration total) {
    this(queue, inference, total, Duration.ZERO, Duration.ZERO, false);
  }

  /** Timings of an answer from the response cache that took {@code total}: no queue, no engine. */
  public static Timings cached(Duration total) {
    return new Timings(Duration.ZERO, Duration.ZERO, total, Duration.ZERO, Duration.ZERO, true);
  }
}
