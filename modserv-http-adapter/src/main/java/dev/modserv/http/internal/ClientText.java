package dev.modserv.http.internal;

/**
 * Text a client sent, made safe to show: in an error message it is quoted, escaped and cut to
 * {@value #MAX_ECHO} characters, so that a 300 kB name or shape is not echoed back whole; in a log
 * line it is escaped, so that a newline or a NUL cannot forge or break a line. The one place that
 * decides how client text is shown.
 */
public final class ClientText {
  /** The most characters of client text an error message repeats. */
  public static final int MAX_ECHO = 100;

  private ClientText() {}

  /** Returns {@code text} in single quotes, escaped and cut to {@value #MAX_ECHO} characters. */
  public static String quote(String text) {
    return "'" + cut(escape(text)) + "'";
  }

  /** Returns {@code text} escaped and cut to {@value #MAX_ECHO} characters, without quotes. */
  public static String echo(String text) {
    return cut(escape(text));
  }

  /**
   * Returns {@code text} with control characters, backslashes, quotes and characters outside
   * printable ASCII escaped as {@code \n}, {@code \t}, {@code \\}, {@code \u0000}: safe in a log line
   * of any format.
   */
  public static String escape(String text) {
    int i = 0;
    while (i < text.length() && plain(text.charAt(i))) {
      i++;
    }
    if (i == text.length()) {
      return text;
    }
    StringBuilder b = new StringBuilder(text.length() + 16).append(text, 0, i);
    for (; i < text.length(); i++) {
      char c = text.charAt(i);
      if (plain(c)) {
        b.append(c);
        continue;
      }
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\\' -> b.append("\\\\");
        case '"' -> b.append("\\\"");
        case '\'' -> b.append("\\'");
        default -> b.append(String.format("\\u%04x", (int) c));
      }
    }
    return b.toString();
  }

  /**
   * Returns a copy of {@code t} and its causes whose messages are escaped, with the same stack
   * traces: for logging a failure whose message may hold client text.
   */
  public static Throwable escaped(Throwable t) {
    return escaped(t, 0);
  }

  private static Throwable escaped(Throwable t, int depth) {
    Throwable cause = t.getCause();
    Throwable copy = new Throwable(t.getClass().getName() + ": "
        + escape(String.valueOf(t.getMessage())),
        cause == null || cause == t || depth >= 8 ? null : escaped(cause, depth + 1));
    copy.setStackTrace(t.getStackTrace());
    return copy;
  }

  /** Whether {@code text} holds a control character (a newline, a NUL, DEL). */
  public static boolean hasControl(String text) {
    return text.chars().anyMatch(c -> c < 0x20 || c == 0x7f);
  }

  private static boolean plain(char c) {
    return c >= 0x20 && c < 0x7f && c != '\\' && c != '"' && c != '\'';
  }

  private static String cut(String escaped) {
    return escaped.length() <= MAX_ECHO ? escaped
        : escaped.substring(0, MAX_ECHO) + "... (" + escaped.length() + " characters)";
  }
}
