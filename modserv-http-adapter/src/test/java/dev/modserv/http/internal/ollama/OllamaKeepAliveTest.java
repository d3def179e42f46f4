package dev.modserv.http.internal.ollama;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.DoubleNode;
import dev.modserv.http.internal.HttpError;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** keep_alive durations are clamped or refused, never wrapped. */
class OllamaKeepAliveTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Duration read(String json) throws Exception {
    JsonNode node = JSON.readTree(json);
    Duration d = OllamaKeepAlive.read(node);
    assertThat(d).isNotNull();
    return d;
  }

  @Test
  void durationsPastTheMaximumAreClampedNeverWrapped() throws Exception {
    assertThat(read("1e300")).isEqualTo(OllamaKeepAlive.MAX);
    assertThat(read("\"5124095h34m33.7s\"")).isEqualTo(OllamaKeepAlive.MAX);
    assertThat(read("\"3000000h\"")).isEqualTo(OllamaKeepAlive.MAX);
    assertThat(read("\"3000000h\"").isNegative()).isFalse();
    assertThat(read("99999999999999999999999")).isEqualTo(OllamaKeepAlive.MAX);
    assertThat(OllamaKeepAlive.MAX).isEqualTo(Duration.ofDays(3650));
  }

  @Test
  void ordinaryValuesKeepTheirMeaning() throws Exception {
    assertThat(read("\"5m\"")).isEqualTo(Duration.ofMinutes(5));
    assertThat(read("\"1h30m\"")).isEqualTo(Duration.ofMinutes(90));
    assertThat(read("0")).isZero();
    assertThat(read("\"0\"")).isZero();
    assertThat(read("-1")).isNegative();
    assertThat(read("\"-1\"")).isNegative();
    assertThat(read("\"-1m\"")).isNegative();
    assertThat(read("1.5")).isEqualTo(Duration.ofMillis(1500));
    assertThat(read("\"87600h\"")).isEqualTo(Duration.ofHours(87600)); // exactly the maximum
  }

  @Test
  void notANumberIsRefusedNamingTheField() {
    for (String json : new String[] {"\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"soon\"",
        "\"\"", "true", "\"1e300\""}) {
      assertThatThrownBy(() -> read(json)).as(json).isInstanceOf(HttpError.class)
          .hasMessageStartingWith("keep_alive: ");
    }
    for (double d : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
      assertThatThrownBy(() -> OllamaKeepAlive.read(DoubleNode.valueOf(d)))
          .isInstanceOf(HttpError.class).hasMessageStartingWith("keep_alive: ");
    }
  }
}
