package dev.modserv.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ModelCacheKeepAliveTest {
  @Test
  void aKeepAliveTooLongForNanosecondsSaturatesInsteadOfThrowing() {
    assertThat(ModelCache.nanosOf(Duration.ofDays(365L * 1000))).isEqualTo(Long.MAX_VALUE);
    assertThat(ModelCache.nanosOf(Duration.ofSeconds(Long.MAX_VALUE))).isEqualTo(Long.MAX_VALUE);
    assertThat(ModelCache.nanosOf(Duration.ofMinutes(5))).isEqualTo(300_000_000_000L);
    assertThat(ModelCache.nanosOf(Duration.ZERO)).isZero();
    assertThat(ModelCache.nanosOf(Duration.ofSeconds(-1))).as("forever").isNegative();
  }
}
