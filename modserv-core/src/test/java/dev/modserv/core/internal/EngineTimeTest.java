package dev.modserv.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class EngineTimeTest {
  @Test
  void batchesOfOneSizeScaleALargerBatchByItsRows() {
    EngineTime time = EngineTime.first(1, 10_000);
    for (int i = 0; i < 20; i++) {
      time = time.add(1, 10_000);
    }
    assertThat(time.estimate(1)).isCloseTo(10_000, within(1.0));
    assertThat(time.estimate(8)).isCloseTo(80_000, within(1.0));
  }

  @Test
  void aSmallerBatchThanRecentOnesCostsNoLessThanThem() {
    EngineTime time = EngineTime.first(4, 20_000);
    for (int i = 0; i < 20; i++) {
      time = time.add(4, 20_000);
    }
    assertThat(time.estimate(1)).isCloseTo(20_000, within(1.0));
  }

  @Test
  void batchesOfManySizesGiveTheFixedAndThePerRowCost() {
    // 10 µs a call and 1 µs a row: a batch of 16 takes 26 µs, not 16 times a batch of one.
    EngineTime time = EngineTime.first(1, 11_000);
    for (int i = 0; i < 200; i++) {
      long rows = 1 + i % 16;
      time = time.add(rows, 10_000 + 1_000 * rows);
    }
    assertThat(time.estimate(16)).isCloseTo(26_000, within(500.0));
    assertThat(time.estimate(32)).isCloseTo(42_000, within(1_000.0));
    assertThat(time.estimate(1)).isCloseTo(11_000, within(500.0));
  }

  @Test
  void largerBatchesThatRanFasterDoNotMakeAnyBatchFree() {
    // Noise can tilt the line the wrong way; the slope stays at zero, the estimate the average.
    EngineTime time = EngineTime.first(1, 30_000);
    for (int i = 0; i < 100; i++) {
      long rows = 1 + i % 8;
      time = time.add(rows, 40_000 - 2_000 * rows);
    }
    assertThat(time.estimate(64)).isGreaterThan(20_000).isLessThan(40_000);
  }
}
