package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class UnitsTest {
  @Test
  void durations() {
    assertThat(Units.duration("50us")).isEqualTo(Duration.ofNanos(50_000));
    assertThat(Units.duration("50µs")).isEqualTo(Duration.ofNanos(50_000));
    assertThat(Units.duration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Units.duration("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Units.duration("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Units.duration("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Units.duration("-1s")).isNegative();
    assertThat(Units.duration("PT1.5S")).isEqualTo(Duration.ofMillis(1500));
    assertThatThrownBy(() -> Units.duration("30")).hasMessageContaining("got \"30\"");
    assertThatThrownBy(() -> Units.duration("9223372036854775807us"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out of range");
    assertThatThrownBy(() -> Units.duration("9223372036854775807d"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out of range");
    assertThatThrownBy(() -> Units.duration("99999999999999999999s"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out of range");
  }

  @Test
  void sizes() {
    assertThat(Units.bytes("1048576")).isEqualTo(1 << 20);
    assertThat(Units.bytes("512MiB")).isEqualTo(512L << 20);
    assertThat(Units.bytes("2g")).isEqualTo(2L << 30);
    assertThat(Units.bytes("1.5GB")).isEqualTo(1_500_000_000L);
    assertThatThrownBy(() -> Units.bytes("lots")).hasMessageContaining("512MiB");
    assertThat(Units.human(22_972_370)).isEqualTo("21.9 MiB");
  }
}
