package dev.modserv.http.internal;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.ReceiverContext;
import org.eclipse.jetty.server.Request;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The observation of one HTTP request, {@value #NAME}: a receiver context whose carrier is the
 * request's headers, so that a tracing bridge continues an incoming W3C {@code traceparent}; and
 * the {@code traceparent} of its span, for the answer and the logs, when the application has a
 * tracing bridge (Micrometer Tracing on the class path).
 */
public final class RequestObservation {
  /** The observation's name. */
  public static final String NAME = "modserv.http.request";

  private static final Logger log = LoggerFactory.getLogger(RequestObservation.class);
  private static final boolean TRACING = tracingPresent();

  private RequestObservation() {}

  private static boolean tracingPresent() {
    try {
      Class.forName("io.micrometer.tracing.handler.TracingObservationHandler", false,
          RequestObservation.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      log.debug("no Micrometer Tracing: answers carry no traceparent", e);
      return false;
    }
  }

  /** Starts the observation of {@code request}, a child of the trace its headers name. */
  static Observation start(ObservationRegistry registry, Request request) {
    ReceiverContext<Request> context = new ReceiverContext<>(
        (carrier, key) -> carrier.getHeaders().get(key));
    context.setCarrier(request);
    return Observation.createNotStarted(NAME, () -> context, registry)
        .lowCardinalityKeyValue("method", request.getMethod())
        .start();
  }

  /**
   * Returns the W3C {@code traceparent} of the span the tracing bridge made for {@code
   * observation}, or null when there is none (no bridge, a no-op registry).
   */
  static @Nullable String traceparent(Observation observation) {
    return TRACING ? Bridge.traceparent(observation.getContext()) : null;
  }

  /** Touches Micrometer Tracing types, so loaded only once they are known to be there. */
  private static final class Bridge {
    static @Nullable String traceparent(Observation.Context context) {
      io.micrometer.tracing.handler.TracingObservationHandler.TracingContext tracing =
          context.get(io.micrometer.tracing.handler.TracingObservationHandler.TracingContext.class);
      io.micrometer.tracing.Span span = tracing == null ? null : tracing.getSpan();
      if (span == null) {
        return null;
      }
      io.micrometer.tracing.TraceContext c = span.context();
      return "00-" + c.traceId() + "-" + c.spanId() + "-"
          + (Boolean.TRUE.equals(c.sampled()) ? "01" : "00");
    }
  }
}
