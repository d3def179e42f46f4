package dev.modserv.http.internal;

/** A wire dialect's routes: each dialect's package registers its own. */
@FunctionalInterface
public interface DialectRoutes {
  /** Adds the dialect's routes to {@code routes}. */
  void register(Routes routes);
}
