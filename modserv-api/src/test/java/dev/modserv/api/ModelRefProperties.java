package dev.modserv.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The name rule, checked by hand in {@link ModelRef}, against the same rule as a pattern. */
class ModelRefProperties {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._\\-/]{0,127}");

  @Property(tries = 3000)
  void aNameIsAcceptedExactlyWhenThePatternAndThePartsRuleAcceptIt(@ForAll("names") String name) {
    boolean expected = NAME.matcher(name).matches() && partsAreNamed(name);
    boolean accepted;
    try {
      accepted = ModelRef.requireName(name).equals(name);
    } catch (IllegalArgumentException e) {
      accepted = false;
    }
    assertThat(accepted).as("'%s'", name).isEqualTo(expected);
  }

  private static boolean partsAreNamed(String name) {
    for (String part : name.split("/", -1)) {
      if (part.isEmpty() || part.equals(".") || part.equals("..")) {
        return false;
      }
    }
    return true;
  }

  /**
   * Names near the rule's edges: lengths around 128, ASCII neighbours of the allowed ranges, and
   * letters and digits outside ASCII (which {@code Character.isLetterOrDigit} would take).
   */
  @Provide
  Arbitrary<String> names() {
    Arbitrary<Character> chars = Arbitraries.of('a', 'z', 'A', 'Z', '0', '9', '.', '_', '-', '/',
        '@', '[', '`', '{', ':', ' ', '\u00e9', '\u0663', '\u212a', '\u0000');
    Arbitrary<String> mostlyValid = Arbitraries.strings().withChars("abcXYZ019._-/")
        .ofMinLength(0).ofMaxLength(130);
    Arbitrary<String> mixed = chars.list().ofMinSize(0).ofMaxSize(8)
        .map(list -> {
          StringBuilder b = new StringBuilder(list.size());
          list.forEach(b::append);
          return b.toString();
        });
    Arbitrary<String> long128 = Arbitraries.integers().between(126, 130)
        .flatMap(n -> chars.map(c -> "m".repeat(n - 1) + c));
    return Arbitraries.oneOf(mostlyValid, mixed, long128);
  }
}
