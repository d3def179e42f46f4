package dev.modserv.server.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;

/**
 * {@code --log-format json}: every event as one JSON object on one line, with {@code time},
 * {@code level}, {@code logger}, {@code thread}, {@code message} and, where known, {@code
 * request_id}, {@code trace_id}, {@code span_id}, {@code model} and {@code version} (the MDC's
 * entries, top level), and {@code exception}. An access log line, which the adapter writes as a
 * JSON object, has its fields at the top level instead of a message.
 */
public final class JsonLogLayout extends LayoutBase<ILoggingEvent> {
  /** The logger of the HTTP access log (the adapter's {@code AccessLog.LOGGER}). */
  static final String ACCESS_LOGGER = "dev.modserv.http.access";

  private static final JsonFactory JSON = new JsonFactory();

  @Override
  public String doLayout(ILoggingEvent event) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("time", Instant.ofEpochMilli(event.getTimeStamp()).toString());
      g.writeStringField("level", event.getLevel().toString());
      g.writeStringField("logger", event.getLoggerName());
      g.writeStringField("thread", event.getThreadName());
      Map<String, String> mdc = event.getMDCPropertyMap();
      String message = event.getFormattedMessage();
      boolean fields = ACCESS_LOGGER.equals(event.getLoggerName()) && message != null
          && message.startsWith("{") && copyFields(message, g, mdc);
      if (!fields) {
        g.writeStringField("message", message == null ? "" : message);
      }
      for (Map.Entry<String, String> e : mdc.entrySet()) {
        g.writeStringField(e.getKey(), e.getValue());
      }
      if (event.getKeyValuePairs() != null) {
        for (var kv : event.getKeyValuePairs()) {
          g.writeStringField(kv.key, String.valueOf(kv.value));
        }
      }
      IThrowableProxy thrown = event.getThrowableProxy();
      if (thrown != null) {
        g.writeStringField("exception", ThrowableProxyUtil.asString(thrown));
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.append(CoreConstants.LINE_SEPARATOR).toString();
  }

  /**
   * Copies the fields of the JSON object {@code message} into {@code g}, leaving out those the MDC
   * writes; returns false, having written nothing, when it is not one flat object.
   */
  private static boolean copyFields(String message, JsonGenerator g, Map<String, String> mdc)
      throws IOException {
    try (JsonParser p = JSON.createParser(message)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return false;
      }
      // Checked whole first: a message cut half way must not leave half an object written.
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        if (p.nextToken().isStructStart()) {
          return false;
        }
      }
    } catch (IOException e) {
      return false;
    }
    try (JsonParser p = JSON.createParser(message)) {
      p.nextToken();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        p.nextToken();
        if (!mdc.containsKey(name)) {
          g.writeFieldName(name);
          g.copyCurrentEvent(p);
        }
      }
    }
    return true;
  }
}
