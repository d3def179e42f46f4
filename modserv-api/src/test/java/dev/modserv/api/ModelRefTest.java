package dev.modserv.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelRefTest {

  private static final String NAME_RULE =
      "': use 1 to 128 letters, digits, '.', '_', '-' or '/', starting with a letter or digit";
  private static final String LABEL_RULE =
      "': use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter";

  @ParameterizedTest
  @ValueSource(
      strings = {
        "iris",
        "iris:3",
        "iris:stable",
        "org/team.model_v2-x:canary",
        "m:9223372036854775807"
      })
  void parseAndToStringRoundTrip(String text) {
    ModelRef ref = ModelRef.parse(text);
    assertThat(ref).hasToString(text);
    assertThat(ModelRef.parse(ref.toString())).isEqualTo(ref);
  }

  @Test
  void parseReadsTheParts() {
    ModelRef plain = ModelRef.parse("iris");
    assertThat(plain.name()).isEqualTo("iris");
    assertThat(plain.version()).isEmpty();
    assertThat(plain.label()).isEmpty();
    assertThat(plain.isLatest()).isTrue();

    ModelRef versioned = ModelRef.parse("iris:12");
    assertThat(versioned.name()).isEqualTo("iris");
    assertThat(versioned.version()).hasValue(12);
    assertThat(versioned.label()).isEmpty();
    assertThat(versioned.isLatest()).isFalse();
    assertThat(versioned).isEqualTo(ModelRef.of("iris", 12));

    ModelRef labelled = ModelRef.parse("iris:stable");
    assertThat(labelled.version()).isEmpty();
    assertThat(labelled.label()).hasValue("stable");
    assertThat(labelled.isLatest()).isFalse();
    assertThat(labelled).isEqualTo(ModelRef.labelled("iris", "stable"));
  }

  @Test
  void latestIsTheSameAsNoVersion() {
    ModelRef latest = ModelRef.parse("iris:latest");
    assertThat(latest).isEqualTo(ModelRef.of("iris")).hasSameHashCodeAs(ModelRef.of("iris"));
    assertThat(latest.isLatest()).isTrue();
    assertThat(latest.label()).isEmpty();
    assertThat(latest).hasToString("iris");
    assertThat(ModelRef.labelled("iris", ModelRef.LATEST)).isEqualTo(ModelRef.of("iris"));
  }

  @Test
  void equalityDistinguishesEveryPart() {
    assertThat(ModelRef.of("a", 1)).isNotEqualTo(ModelRef.of("a", 2));
    assertThat(ModelRef.of("a", 1)).isNotEqualTo(ModelRef.of("b", 1));
    assertThat(ModelRef.of("a")).isNotEqualTo(ModelRef.of("a", 1));
    assertThat(ModelRef.labelled("a", "x")).isNotEqualTo(ModelRef.labelled("a", "y"));
    assertThat(ModelRef.labelled("a", "x")).isNotEqualTo(ModelRef.of("a"));
    assertThat(ModelRef.of("a", 3)).hasSameHashCodeAs(ModelRef.parse("a:3"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "-iris", ".iris", "/iris", "ir is", "iris!", "iris:3:4", "i:r:s"})
  void badNamesAreRefused(String text) {
    String name = text.contains(":") ? text.substring(0, text.lastIndexOf(':')) : text;
    assertThatThrownBy(() -> ModelRef.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid model name '" + name + NAME_RULE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"a/../x", "a/./x", "a//x", "a/", "a/.."})
  void namePartsBetweenSlashesAreNotEmptyOrDots(String name) {
    assertThatThrownBy(() -> ModelRef.of(name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid model name '" + name
            + "': a part between slashes must not be empty, '.' or '..'");
    assertThat(ModelRef.of("org/team.model/v2..x").name()).isEqualTo("org/team.model/v2..x");
  }

  @Test
  void namesHaveAtMost128Characters() {
    String longest = "a".repeat(128);
    assertThat(ModelRef.of(longest).name()).isEqualTo(longest);
    String tooLong = "a".repeat(129);
    assertThatThrownBy(() -> ModelRef.of(tooLong))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid model name '" + tooLong + NAME_RULE);
    assertThatThrownBy(() -> ModelRef.of(tooLong, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("invalid model name");
    assertThatThrownBy(() -> ModelRef.labelled(tooLong, "stable"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("invalid model name");
  }

  @Test
  void badVersionsAreRefused() {
    assertThatThrownBy(() -> ModelRef.parse("iris:0"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("model version must be >= 1: 0");
    assertThatThrownBy(() -> ModelRef.of("iris", -5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("model version must be >= 1: -5");
    assertThatThrownBy(() -> ModelRef.parse("iris:99999999999999999999"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("model version is too large: 'iris:99999999999999999999'")
        .hasCauseInstanceOf(NumberFormatException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "1abc", "-x", "_x", "sta ble", "stable!"})
  void badLabelsAreRefused(String label) {
    assertThatThrownBy(() -> ModelRef.parse("iris:" + label))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid label '" + label + LABEL_RULE);
    assertThatThrownBy(() -> ModelRef.labelled("iris", label))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid label '" + label + LABEL_RULE);
  }

  @Test
  void labelsHaveAtMost64Characters() {
    assertThat(ModelRef.labelled("m", "a".repeat(64)).label()).hasValue("a".repeat(64));
    assertThatThrownBy(() -> ModelRef.labelled("m", "a".repeat(65)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid label '" + "a".repeat(65) + LABEL_RULE);
  }

  @Test
  void validatorsReturnTheirArgument() {
    assertThat(ModelRef.requireName("a.b")).isEqualTo("a.b");
    assertThat(ModelRef.requireVersion(1)).isEqualTo(1);
    assertThat(ModelRef.requireLabel("canary")).isEqualTo("canary");
  }
}
