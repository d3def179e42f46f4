package dev.modserv.http.internal;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.time.Instant;
import org.eclipse.jetty.server.Request;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One JSON line per answered request on the logger {@value #LOGGER} at INFO, and the request id in
 * the SLF4J MDC under {@value #MDC_KEY} while the adapter handles a request. Nothing is formatted
 * when the logger is off.
 */
public final class AccessLog {
  /** The access log's logger name. */
  public static final String LOGGER = "dev.modserv.http.access";

  /** The MDC key of the request id. */
  public static final String MDC_KEY = "request_id";

  private static final Logger log = LoggerFactory.getLogger(LOGGER);
  /** Routes of liveness, readiness and metrics, which orchestrators and scrapers poll. */
  private static final java.util.Set<String> PROBES = java.util.Set.of("/health", "/ready",
      "/metrics", "/v2/health/live", "/v2/health/ready", "/api/health");

  private AccessLog() {}

  /** The MDC key of the trace id, while a traced request is handled. */
  public static final String TRACE_KEY = "trace_id";

  /** Puts {@code requestId} in the MDC; {@link #exit()} removes it. */
  static void enter(String requestId) {
    MDC.put(MDC_KEY, requestId);
  }

  /** Puts {@code requestId}, and {@code traceId} when traced, in the MDC. */
  static void enter(String requestId, @Nullable String traceId) {
    MDC.put(MDC_KEY, requestId);
    if (traceId != null) {
      MDC.put(TRACE_KEY, traceId);
    }
  }

  /** Removes the request and trace ids from the MDC. */
  static void exit() {
    MDC.remove(MDC_KEY);
    MDC.remove(TRACE_KEY);
  }

  /** Writes the line of one answered request, when the access logger is on. */
  static void log(Request request, String route, int status, long bytes, long requestBytes,
      long nanos, String requestId, @Nullable String traceId) {
    // Probes and scrapes come every few seconds from machines: only at DEBUG.
    boolean probe = PROBES.contains(route);
    if (probe ? !log.isDebugEnabled() : !log.isInfoEnabled()) {
      return;
    }
    JsonStringEncoder enc = JsonStringEncoder.getInstance();
    StringBuilder b = new StringBuilder(256);
    b.append("{\"time\":\"").append(Instant.now()).append("\",\"request_id\":\"");
    enc.quoteAsString(requestId, b);
    b.append("\",\"method\":\"");
    enc.quoteAsString(request.getMethod(), b);
    b.append("\",\"path\":\"");
    enc.quoteAsString(request.getHttpURI().getPath(), b);
    b.append("\",\"route\":\"");
    enc.quoteAsString(route, b);
    b.append("\",\"status\":").append(status)
        .append(",\"bytes\":").append(bytes)
        .append(",\"request_bytes\":").append(requestBytes)
        .append(",\"duration_us\":").append(nanos / 1000)
        .append(",\"remote\":\"");
    String remote = Request.getRemoteAddr(request);
    enc.quoteAsString(remote == null ? "" : remote, b);
    b.append('"');
    if (traceId != null) {
      b.append(",\"trace_id\":\"").append(traceId).append('"');
    }
    b.append('}');
    enter(requestId, traceId);
    try {
      if (probe) {
        log.debug(b.toString());
      } else {
        log.info(b.toString());
      }
    } finally {
      exit();
    }
  }
}
