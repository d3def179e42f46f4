package dev.modserv.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EngineOptionsTest {
  private static final List<String> KNOWN =
      List.of("threads", "memory-bytes", "embedding", "tags", "cache-dir", "signature");

  private static EngineOptions options(Map<String, String> overrides) {
    return new EngineOptions("demo", KNOWN, Map.of(), overrides);
  }

  @Test
  void unknownKeysAreRefusedNamingThemAndListingTheKnownOnes() {
    assertThatThrownBy(() -> options(Map.of("thread", "2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown demo option 'thread'; known options: threads, memory-bytes,"
            + " embedding, tags, cache-dir, signature");
    assertThatThrownBy(() -> new EngineOptions("demo", KNOWN, Map.of("colour", "red"), Map.of()))
        .as("defaults are checked too").hasMessageStartingWith("unknown demo option 'colour';");
    assertThatThrownBy(() -> options(Map.of("b", "1", "a", "2")))
        .hasMessageStartingWith("unknown demo options 'a', 'b'; known options: threads,");
  }

  @Test
  void overridesWinOverDefaults() {
    EngineOptions o = new EngineOptions("demo", KNOWN,
        Map.of("threads", "2", "signature", "serving_default"), Map.of("threads", "8"));
    assertThat(o.positiveInt("threads")).isEqualTo(8);
    assertThat(o.string("signature", "other")).isEqualTo("serving_default");
    assertThat(o.has("tags")).isFalse();
    assertThat(o.get("tags")).isNull();
  }

  @Test
  void absentOptionsReadAsTheGivenFallbacks() {
    EngineOptions o = options(Map.of());
    assertThat(o.positiveInt("threads")).isEqualTo(-1);
    assertThat(o.wholeNumber("memory-bytes", 0, Long.MAX_VALUE, -1)).isEqualTo(-1);
    assertThat(o.integer("threads", 1, 64, 4)).isEqualTo(4);
    assertThat(o.bool("embedding", true)).isTrue();
    assertThat(o.path("cache-dir")).isNull();
    assertThat(o.list("tags", "serve")).containsExactly("serve");
    assertThat(o.string("signature", "serving_default")).isEqualTo("serving_default");
  }

  @Test
  void wholeNumbersAreParsedTrimmedAndRangeChecked() {
    assertThat(options(Map.of("memory-bytes", " 12345 ")).wholeNumber("memory-bytes", 0,
        Long.MAX_VALUE, -1)).isEqualTo(12345);
    assertThatThrownBy(() -> options(Map.of("threads", "x")).positiveInt("threads"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("demo option 'threads': expected a whole number, got 'x'")
        .hasCauseInstanceOf(NumberFormatException.class);
    assertThatThrownBy(() -> options(Map.of("threads", "0")).positiveInt("threads"))
        .hasMessage("demo option 'threads': expected 1 to 2147483647, got 0");
    assertThatThrownBy(() -> options(Map.of("threads", "65")).integer("threads", 1, 64, 4))
        .hasMessage("demo option 'threads': expected 1 to 64, got 65");
    assertThatThrownBy(() -> options(Map.of("threads", "4294967296")).positiveInt("threads"))
        .as("no silent overflow into an int")
        .hasMessage("demo option 'threads': expected 1 to 2147483647, got 4294967296");
  }

  @Test
  void booleansAreTrueOrFalseOnly() {
    assertThat(options(Map.of("embedding", "true")).bool("embedding", false)).isTrue();
    assertThat(options(Map.of("embedding", "FALSE")).bool("embedding", true)).isFalse();
    assertThatThrownBy(() -> options(Map.of("embedding", "yes")).bool("embedding", false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("demo option 'embedding': expected true or false, got 'yes'");
    assertThatThrownBy(() -> options(Map.of("embedding", "1")).bool("embedding", false))
        .hasMessageContaining("'embedding'");
  }

  @Test
  void listsAreSplitAtCommasAndRefuseEmptyParts() {
    assertThat(options(Map.of("tags", " serve , gpu")).list("tags", "serve"))
        .containsExactly("serve", "gpu");
    assertThatThrownBy(() -> options(Map.of("tags", "serve,,gpu")).list("tags", "serve"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("demo option 'tags': expected comma-separated values, none empty,"
            + " got 'serve,,gpu'");
    assertThatThrownBy(() -> options(Map.of("tags", "")).list("tags", "serve"))
        .hasMessageContaining("'tags'");
  }

  @Test
  void pathsAreTrimmedAndABlankValueIsNoPath() {
    assertThat(options(Map.of("cache-dir", " cache/x ")).path("cache-dir"))
        .isEqualTo(Path.of("cache/x"));
    assertThat(options(Map.of("cache-dir", "  ")).path("cache-dir")).isNull();
  }

  @Test
  void engineChecksGetTheSameWording() {
    assertThat(options(Map.of()).invalid("signature", "expected a name, got ''"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("demo option 'signature': expected a name, got ''");
  }

  @Test
  void readingAKeyTheEngineDidNotListIsAnError() {
    assertThatThrownBy(() -> options(Map.of()).positiveInt("thraeds"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'thraeds'").hasMessageContaining("not among its known options");
  }
}
