package dev.modserv.http.internal;

import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One route: a method, a path template ({@code /v2/models/{m}/infer}) and its handler, with named
 * properties set as it is registered ({@link Routes#post}{@code (path, handler).blocking()}).
 * By default a route needs the API key, reads a body only for POST, runs on the thread that read
 * the request and answers errors in its dialect's shape.
 */
public final class Route {
  /** Whether a body is the route's to answer, when routes of two dialects share a path. */
  @FunctionalInterface
  public interface Claim {
    boolean test(Exchange ex) throws Exception;
  }

  final String method;
  final String template;
  final RouteHandler handler;
  final boolean body;
  final String[] parts;
  ErrorShape errors;
  boolean open;
  boolean blocking;
  boolean management;
  @Nullable Claim claim;
  /** The route of another dialect on the same method and path, for bodies this one does not claim. */
  @Nullable Route otherwise;

  Route(String method, String template, RouteHandler handler, boolean body, ErrorShape errors) {
    this.method = method;
    this.template = template;
    this.handler = handler;
    this.body = body;
    this.errors = errors;
    this.parts = Router.split(template);
  }

  /** Served without the API key (liveness, readiness). */
  public Route open() {
    this.open = true;
    return this;
  }

  /**
   * Changes which models are loaded: with no API key, only clients on this machine (loopback, the
   * Unix socket) may call it.
   */
  public Route management() {
    this.management = true;
    return this;
  }

  /** May wait (files, locks): runs on Jetty's thread pool, not the I/O thread. */
  public Route blocking() {
    this.blocking = true;
    return this;
  }

  /**
   * When another enabled dialect serves the same method and path, this route answers only the
   * bodies {@code claim} accepts, and the other route the rest. Alone, it answers every body.
   */
  public Route claims(Claim test) {
    this.claim = test;
    return this;
  }

  /** Returns the route that answers {@code ex}: this one, or the other dialect's. */
  Route choose(Exchange ex) throws Exception {
    Route other = otherwise;
    return other == null || claim == null || claim.test(ex) ? this : other;
  }

  /**
   * Once every dialect registered: of two routes on this method and path, returns the one that
   * claims bodies, with the other behind it.
   */
  Route settle() {
    Route other = otherwise;
    if (other == null) {
      return this;
    }
    Route claimer = claim != null ? this : other;
    Route rest = claimer == this ? other : this;
    if (claimer.claim == null || rest.claim != null || other.otherwise != null) {
      throw new IllegalStateException(method + " " + template + " is registered by two dialects,"
          + " and not by exactly one route that claims bodies");
    }
    rest.otherwise = null;
    claimer.otherwise = rest;
    return claimer;
  }

  @Nullable Map<String, String> match(String[] segments) {
    if (segments.length != parts.length) {
      return null;
    }
    Map<String, String> params = null;
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i];
      if (part.startsWith("{")) {
        if (segments[i].isEmpty()) {
          return null;
        }
        if (params == null) {
          params = new HashMap<>(4);
        }
        params.put(part.substring(1, part.length() - 1), segments[i]);
      } else if (!part.equals(segments[i])) {
        return null;
      }
    }
    return params == null ? Map.of() : params;
  }
}
