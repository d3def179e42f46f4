package dev.modserv.http.internal.ollama;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Names;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelRegistry;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Ollama's {@code keep_alive}, mapped onto the model cache: the model's keep-alive becomes the
 * given idle time ({@code 0} unloads it once the request is answered; a negative one keeps it
 * loaded), and stays so for later requests, as in Ollama.
 */
final class OllamaKeepAlive {
  /** The longest keep-alive; longer ones are clamped to it, never wrapped (docs/http.md). */
  static final Duration MAX = Duration.ofDays(3650);

  private static final BigDecimal MAX_NANOS = BigDecimal.valueOf(MAX.toNanos());
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

  private OllamaKeepAlive() {}

  /** Reads {@code keep_alive}: a Go duration ({@code "5m"}, {@code "1h30m"}) or seconds. */
  static @Nullable Duration read(@Nullable JsonNode v) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (v.isNumber()) {
      if (v.isFloatingPointNumber() && !Double.isFinite(v.doubleValue())) {
        throw badValue(v.toString());
      }
      return seconds(v.decimalValue());
    }
    if (!v.isTextual()) {
      throw badValue(v.toString());
    }
    String text = v.asText().trim();
    if (text.matches("-?\\d+(\\.\\d+)?")) {
      return seconds(new BigDecimal(text));
    }
    boolean negative = text.startsWith("-");
    String rest = negative ? text.substring(1) : text;
    Matcher m = PART.matcher(rest);
    BigDecimal nanos = BigDecimal.ZERO;
    int at = 0;
    while (m.find() && m.start() == at) {
      BigDecimal n = new BigDecimal(m.group(1));
      long unit = switch (m.group(2)) {
        case "ns" -> 1L;
        case "us", "µs" -> 1_000L;
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "m" -> 60_000_000_000L;
        default -> 3_600_000_000_000L;
      };
      nanos = nanos.add(n.multiply(BigDecimal.valueOf(unit)));
      at = m.end();
    }
    if (rest.isEmpty() || at != rest.length()) {
      throw badValue("\"" + text + "\"");
    }
    return fromNanos(negative ? nanos.negate() : nanos);
  }

  private static Duration seconds(BigDecimal s) {
    return fromNanos(s.multiply(BigDecimal.valueOf(1_000_000_000L)));
  }

  /** Negative: keep loaded; past {@link #MAX}: clamped to it; else whole nanoseconds. */
  private static Duration fromNanos(BigDecimal nanos) {
    if (nanos.signum() < 0) {
      return Duration.ofSeconds(-1);
    }
    return nanos.compareTo(MAX_NANOS) > 0 ? MAX : Duration.ofNanos(nanos.longValue());
  }

  private static HttpError badValue(String given) {
    return HttpError.badField("keep_alive", "expected a duration such as \"5m\" or \"1h30m\","
        + " a number of seconds, 0 (unload after this request) or a negative value (keep"
        + " loaded); got " + given);
  }

  /** Sets the keep-alive of the model {@code model} names, when {@code keepAlive} is given. */
  static void apply(ModelRegistry registry, String model, @Nullable Duration keepAlive) {
    if (keepAlive == null) {
      return;
    }
    String name = Names.ref("model", model).name();
    ModelConfig config = registry.config(name);
    ModelConfig changed = config.withKeepAlive(keepAlive);
    if (changed != config) {
      registry.configure(name, changed);
    }
  }
}
