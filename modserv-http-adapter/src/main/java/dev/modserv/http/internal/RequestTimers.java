package dev.modserv.http.internal;

import dev.modserv.core.ServingMeter;
import dev.modserv.api.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The {@code modserv.http.requests} timers by route, method and status, each registered once and
 * then found with two map lookups on constant strings and an array index: building and registering
 * a timer per request costs more than the rest of a small request's bookkeeping.
 */
public final class RequestTimers {
  /** The timers' meter name (an HTTP meter: core's {@code ServingMeter} lists the model ones). */
  public static final String METER = "modserv.http.requests";

  private static final int STATUSES = 600;

  private final MeterRegistry registry;
  private final AtomicReferenceArray<Counter> refusals =
      new AtomicReferenceArray<>(ErrorCode.values().length);
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, AtomicReferenceArray<Timer>>>
      timers = new ConcurrentHashMap<>();

  /** Registers timers in {@code registry} as they are first needed. */
  public RequestTimers(MeterRegistry registry) {
    this.registry = registry;
  }

  /**
   * Counts a request the adapter refused before it called the model server ({@code modserv.errors}
   * with {@code model=""}: a model it does not know, a field it refused, a missing API key); the
   * server counts those it answers itself, so none is counted twice.
   */
  void refused(ErrorCode code) {
    Counter c = refusals.get(code.ordinal());
    if (c == null) {
      c = Counter.builder(ServingMeter.ERRORS.meterName())
          .description("Failed requests, by error code")
          .tags("model", "", "code", code.name()).register(registry);
      refusals.set(code.ordinal(), c);
    }
    c.increment();
  }

  /** Returns the timer of requests to {@code route} with {@code method} answered {@code status}. */
  Timer timer(String route, String method, int status) {
    var byMethod = timers.get(route);
    if (byMethod == null) {
      byMethod = timers.computeIfAbsent(route, r -> new ConcurrentHashMap<>());
    }
    var byStatus = byMethod.get(method);
    if (byStatus == null) {
      byStatus = byMethod.computeIfAbsent(method, m -> new AtomicReferenceArray<>(STATUSES));
    }
    int slot = status >= 0 && status < STATUSES ? status : 0;
    Timer t = byStatus.get(slot);
    if (t == null) {
      // Registering twice gives the same timer: a race here only costs a lookup.
      t = Timer.builder(METER)
          .description("HTTP requests by route, method and status")
          .serviceLevelObjectives(ServingMeter.LATENCY_BUCKETS.toArray(Duration[]::new))
          .tag("route", route)
          .tag("method", method)
          .tag("status", Integer.toString(status))
          .register(registry);
      byStatus.set(slot, t);
    }
    return t;
  }
}
