package dev.modserv.http.internal;

import java.util.List;

/**
 * Where a dialect registers its routes: {@code routes.post("/api/predict", api::predict)}, {@code
 * routes.get("/health", ops::health).open()}. Routes registered after {@link #errors} answer
 * errors in that shape.
 */
public final class Routes {
  private final List<Route> sink;
  private ErrorShape errors = ErrorShape.PLAIN;

  Routes(List<Route> sink) {
    this.sink = sink;
  }

  /** The error shape of the routes registered from now on; {@link ErrorShape#PLAIN} until set. */
  public Routes errors(ErrorShape shape) {
    this.errors = shape;
    return this;
  }

  /** A GET route. */
  public Route get(String template, RouteHandler handler) {
    return add(new Route("GET", template, handler, false, errors));
  }

  /** A HEAD route. */
  public Route head(String template, RouteHandler handler) {
    return add(new Route("HEAD", template, handler, false, errors));
  }

  /** A POST route: its body is read (within the size limit) before {@code handler} runs. */
  public Route post(String template, RouteHandler handler) {
    return add(new Route("POST", template, handler, true, errors));
  }

  /** A DELETE route. */
  public Route delete(String template, RouteHandler handler) {
    return add(new Route("DELETE", template, handler, false, errors));
  }

  private Route add(Route route) {
    for (Route r : sink) {
      if (r.method.equals(route.method) && r.template.equals(route.template)) {
        if (r.otherwise != null) {
          throw new IllegalStateException(route.method + " " + route.template
              + " is registered three times");
        }
        // Its properties are not set yet: the router settles which one claims once all are in.
        r.otherwise = route;
        return route;
      }
    }
    sink.add(route);
    return route;
  }
}
