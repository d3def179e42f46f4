package dev.modserv.core.internal;

/**
 * The engine's recent time against the rows of a batch: moving averages (each new batch weighs
 * an eighth) of the rows, the time, and their squares and product, from which {@link #estimate}
 * draws a least-squares line. A batch costs a fixed part (the call, its tensors) and a part per
 * row; time divided by rows alone would make a batch of 16 look 16 times as long as one of a
 * single row whose cost is nearly all fixed.
 */
record EngineTime(double rows, double nanos, double rowsSquared, double rowsTimesNanos) {
  /** Below this variance of the rows (all recent batches about one size) the slope is unknown. */
  private static final double LEAST_VARIANCE = 0.25;

  /** The estimate after one batch. */
  static EngineTime first(long rows, long nanos) {
    double r = rows;
    return new EngineTime(r, nanos, r * r, r * nanos);
  }

  /** The estimate with one more batch of {@code rows} that took {@code nanos}. */
  EngineTime add(long rows, long nanos) {
    double r = rows;
    return new EngineTime(mix(this.rows, r), mix(this.nanos, nanos), mix(rowsSquared, r * r),
        mix(rowsTimesNanos, r * nanos));
  }

  private static double mix(double average, double sample) {
    return average + (sample - average) / 8;
  }

  /**
   * The time a batch of {@code batchRows} should take: on the line through recent batches, or,
   * while they were all about one size, that size's time, in proportion to the rows for a larger
   * batch (the cautious guess: it may be that every row costs the same).
   */
  double estimate(long batchRows) {
    double variance = rowsSquared - rows * rows;
    if (variance < LEAST_VARIANCE) {
      return nanos * Math.max(1.0, batchRows / Math.max(1.0, rows));
    }
    double slope = Math.max(0, (rowsTimesNanos - rows * nanos) / variance);
    return Math.max(0, nanos + slope * (batchRows - rows));
  }
}
