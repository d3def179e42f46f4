package dev.modserv.http.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.ModelRef;

/**
 * Model versions from clients, checked once at the edge: a whole number from 1 to
 * {@link Long#MAX_VALUE} (what the registry accepts), else 400 naming the field, never a wrapped
 * number or a 500.
 */
public final class Versions {
  private Versions() {}

  /** Parses {@code text}, the version in {@code field}: digits only, 1 to {@code Long.MAX_VALUE}. */
  public static long parse(String field, String text) {
    if (isNumber(text)) {
      try {
        return ModelRef.requireVersion(Long.parseLong(text));
      } catch (IllegalArgumentException tooLargeOrZero) {
        // NumberFormatException (too large) is an IllegalArgumentException too.
      }
    }
    throw bad(field, ClientText.quote(text));
  }

  /** Reads a JSON version: a whole number or a string of digits (as {@link #parse}). */
  public static long read(String field, JsonNode v) {
    if (v.isIntegralNumber() || v.isTextual()) {
      return parse(field, v.asText());
    }
    if (v.isNumber() && v.canConvertToExactIntegral()) {
      return parse(field, v.decimalValue().toBigIntegerExact().toString());
    }
    throw bad(field, ClientText.echo(v.toString()));
  }

  /** Parses a version path or field that may be a label: digits are a version, else a label. */
  public static ModelRef ref(String name, String field, String version) {
    String checked = versionOrLabel(field, version);
    return isNumber(checked) ? ModelRef.of(name, Long.parseLong(checked))
        : ModelRef.labelled(name, checked);
  }

  /** Returns {@code text} once it is a valid version ({@link #parse}) or label. */
  public static String versionOrLabel(String field, String text) {
    if (isNumber(text)) {
      parse(field, text);
      return text;
    }
    try {
      return ModelRef.requireLabel(text);
    } catch (IllegalArgumentException e) {
      throw HttpError.badField(field, "expected a version number from 1 to " + Long.MAX_VALUE
          + " or a label, got " + ClientText.quote(text) + " (a label is 1 to 64 letters, digits,"
          + " '.', '_' or '-', starting with a letter)");
    }
  }

  private static boolean isNumber(String text) {
    return !text.isEmpty() && text.chars().allMatch(c -> c >= '0' && c <= '9');
  }

  private static HttpError bad(String field, String given) {
    return HttpError.badField(field, "expected a version number from 1 to " + Long.MAX_VALUE
        + ", got " + given);
  }
}
