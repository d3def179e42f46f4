package dev.modserv.http.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code modserv.http.requests} timers by route, method and status, each registered once:
 * building and registering a timer per request costs more than the rest of a small request's
 * bookkeeping.
 */
public final class RequestTimers {
  private record Key(String route, String method, int status) {}

  private final MeterRegistry registry;
  private final ConcurrentHashMap<Key, Timer> timers = new ConcurrentHashMap<>();

  /** Registers timers in {@code registry} as they are first needed. */
  public RequestTimers(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Returns the timer of requests to {@code route} with {@code method} answered {@code status}. */
  Timer timer(String route, String method, int status) {
    return timers.computeIfAbsent(new Key(route, method, status), k ->
        Timer.builder("modserv.http.requests")
            .description("HTTP requests by route, method and status")
            .tag("route", k.route())
            .tag("method", k.method())
            .tag("status", Integer.toString(k.status()))
            .register(registry));
  }
}
