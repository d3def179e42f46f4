package dev.modserv.http.internal;

/** Answers the requests of a route. */
@FunctionalInterface
public interface RouteHandler {
  /** Answers {@code ex}, now or later, from any thread. */
  void handle(Exchange ex) throws Exception;
}
