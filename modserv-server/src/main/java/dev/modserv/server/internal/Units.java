package dev.modserv.server.internal;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations ({@code 50us}, {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, ISO-8601) and
 * sizes.
 */
public final class Units {
  private static final Pattern DURATION = Pattern.compile("(-?\\d+)\\s*(us|µs|ms|s|m|h|d)");
  private static final Pattern SIZE =
      Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?");

  private Units() {}

  /**
   * Parses a duration: a whole number with a unit ({@code us} or {@code µs}, {@code ms}, {@code
   * s}, {@code m}, {@code h}, {@code d}) or ISO-8601 ({@code PT1.5S}).
   *
   * @throws IllegalArgumentException with what was expected
   */
  public static Duration duration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    Matcher m = DURATION.matcher(t);
    if (m.matches()) {
      try {
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
          case "us", "µs" -> Duration.ofNanos(Math.multiplyExact(n, 1000L));
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          case "h" -> Duration.ofHours(n);
          default -> Duration.ofDays(n);
        };
      } catch (ArithmeticException | NumberFormatException e) {
        throw new IllegalArgumentException("duration out of range: \"" + text + "\"", e);
      }
    }
    if (t.startsWith("pt") || t.startsWith("p") || t.startsWith("-p")) {
      try {
        return Duration.parse(text.trim());
      } catch (DateTimeParseException e) {
        // falls through to the message below
      }
    }
    throw new IllegalArgumentException("expected a duration such as 500ms, 30s, 5m or 1h, got \""
        + text + "\"");
  }

  /**
   * Parses a size in bytes: a number with an optional unit; {@code k}, {@code m}, {@code g},
   * {@code t} and their {@code KiB} forms are powers of 1024, {@code kb}, {@code mb}, {@code gb},
   * {@code tb} powers of 1000.
   *
   * @throws IllegalArgumentException with what was expected
   */
  public static long bytes(String text) {
    Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "expected a size such as 512MiB, 2GiB or 1048576, got \"" + text + "\"");
    }
    double n = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2);
    double factor = switch (unit) {
      case "b" -> 1;
      case "k", "kib" -> 1L << 10;
      case "m", "mib" -> 1L << 20;
      case "g", "gib" -> 1L << 30;
      case "t", "tib" -> 1L << 40;
      case "kb" -> 1e3;
      case "mb" -> 1e6;
      case "gb" -> 1e9;
      default -> 1e12;
    };
    return Math.round(n * factor);
  }

  /** Formats bytes for people: {@code 22.9 MiB}. */
  public static String human(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int i = -1;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[i]);
  }
}
