package dev.modserv.server.internal;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * Sets up the standalone server's Logback, before anything logs: the level ({@code
 * --log-level}), the format ({@code --log-format text} or {@code json}, one JSON object per line)
 * and the HTTP access log ({@code --access-log}, off by default), written through an
 * asynchronous appender that drops lines rather than slow requests down when the console cannot
 * keep up. Everything goes to standard output.
 */
public final class Logging {
  /** The text format's pattern: time, level, the logger's short name, the message. */
  static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %level %logger{0} - %msg%n";

  private Logging() {}

  /** The log formats. */
  public enum Format {
    /** A line of text per event. */
    TEXT,
    /** A JSON object per line. */
    JSON;

    /** Reads {@code text} or {@code json}. */
    public static Format parse(String value) {
      try {
        return valueOf(value.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--log-format must be text or json: " + value, e);
      }
    }
  }

  /**
   * Configures Logback; safe to call again (a test's second server).
   *
   * @throws IllegalArgumentException for an unknown level or format
   */
  public static void configure(String level, Format format, boolean accessLog) {
    Level root = Level.toLevel(level.strip().toUpperCase(Locale.ROOT), null);
    if (root == null) {
      throw new IllegalArgumentException("--log-level must be trace, debug, info, warn or error: "
          + level);
    }
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;   // another SLF4J backend on the class path (an embedding test): leave it alone
    }
    context.reset();
    ConsoleAppender<ILoggingEvent> console = console(context, format, "console");
    Logger rootLogger = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    rootLogger.setLevel(root);
    rootLogger.addAppender(console);
    context.getLogger("org.eclipse.jetty").setLevel(Level.WARN);
    context.getLogger("ai.djl.util.cuda").setLevel(Level.ERROR);

    Logger access = context.getLogger(JsonLogLayout.ACCESS_LOGGER);
    access.setAdditive(false);
    if (!accessLog) {
      access.setLevel(Level.OFF);
      return;
    }
    // Probes and scrapes are at DEBUG: seen only with --log-level debug.
    access.setLevel(root.isGreaterOrEqual(Level.INFO) ? Level.INFO : root);
    AsyncAppender async = new AsyncAppender();
    async.setContext(context);
    async.setName("access");
    async.setQueueSize(8192);
    async.setDiscardingThreshold(0);
    async.setNeverBlock(true);
    async.addAppender(console(context, format, "access-console"));
    async.start();
    access.addAppender(async);
  }

  private static ConsoleAppender<ILoggingEvent> console(LoggerContext context, Format format,
      String name) {
    Encoder<ILoggingEvent> encoder;
    if (format == Format.JSON) {
      JsonLogLayout layout = new JsonLogLayout();
      layout.setContext(context);
      layout.start();
      LayoutWrappingEncoder<ILoggingEvent> json = new LayoutWrappingEncoder<>();
      json.setContext(context);
      json.setLayout(layout);
      json.start();
      encoder = json;
    } else {
      PatternLayoutEncoder text = new PatternLayoutEncoder();
      text.setContext(context);
      text.setPattern(TEXT_PATTERN);
      text.start();
      encoder = text;
    }
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName(name);
    console.setEncoder(encoder);
    console.start();
    return console;
  }
}
