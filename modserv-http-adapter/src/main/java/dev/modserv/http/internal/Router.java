package dev.modserv.http.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.http.HostExchange;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;
import org.jspecify.annotations.Nullable;

/**
 * The adapter's one Jetty handler: request id, CORS, shutdown, API key, origin and content checks,
 * body limit and read deadline, then the route. The
 * routes are the enabled dialects' own, each registered by its package ({@link DialectRoutes}).
 *
 * <p>It is a non-blocking handler: Jetty runs it on the thread that read the request, often a
 * selector, with no hand-off. So nothing here waits: bodies are read asynchronously, routes that
 * touch files or wait are marked blocking and run on Jetty's thread pool, and model calls leave
 * this thread only when they would block it ({@link ModelCalls}).
 */
public final class Router extends Handler.Abstract.NonBlocking {
  private static final int MAX_REQUEST_ID = 128;
  private static final String TRACEPARENT = "traceparent";

  private final Settings settings;
  private final List<Route> routes;
  private final Duration bodyTimeout;
  /** The requests not answered yet, for a shutdown whose grace runs out. */
  private final Set<Exchange> inFlight = ConcurrentHashMap.newKeySet();

  /** Returns each route as {@code METHOD /template}, in the order they were registered. */
  public List<String> routes() {
    return routes.stream().map(r -> r.method + " " + r.template).toList();
  }

  /**
   * Builds the routes of {@code dialects}, in order; a request body must arrive within {@code
   * bodyTimeout} of its headers.
   */
  public Router(Settings settings, List<DialectRoutes> dialects, Duration bodyTimeout) {
    this.settings = settings;
    this.bodyTimeout = bodyTimeout;
    List<Route> table = new ArrayList<>();
    for (DialectRoutes d : dialects) {
      d.register(new Routes(table));
    }
    this.routes = table.stream().map(Route::settle).toList();
  }

  /** Returns the SHA-256 of {@code key}, as the router compares keys. */
  public static byte[] hash(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    long start = System.nanoTime();
    String requestId = requestId(request.getHeaders().get("X-Request-Id"));
    response.getHeaders().put("X-Request-Id", requestId);
    Exchange[] self = new Exchange[1];
    JettyExchange wire = new JettyExchange(request, response,
        Callback.from(callback, () -> inFlight.remove(self[0])));
    Exchange ex = new Exchange(wire, request, settings, requestId, start);
    self[0] = ex;
    inFlight.add(ex);
    ObservationRegistry observations = settings.observations();
    if (!observations.isNoop()) {
      Observation observation = RequestObservation.start(observations, request);
      String traceparent = RequestObservation.traceparent(observation);
      if (traceparent != null) {
        response.getHeaders().put(TRACEPARENT, traceparent);
      }
      ex.observe(observation, traceparent);
    }
    AccessLog.enter(requestId, ex.traceId());
    try {
      if (cors(request, response, ex)) {
        return true;
      }
      String method = request.getMethod();
      String path = Request.getPathInContext(request);
      Match m = match(method, path, wire);
      ex.route(m.route.template, m.params, m.route.errors);
      if (!m.route.open && !settings.readiness().accepting()) {
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        throw new ModelServingException(ErrorCode.SHUTTING_DOWN,
            "the server is shutting down; send the request to another instance");
      }
      if (!m.route.open && !authorized(request)) {
        response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
        ex.fail(new HttpError(ErrorCode.UNAUTHORIZED, "missing or wrong API key"));
        return true;
      }
      if (RequestChecks.changesState(method)) {
        RequestChecks.origin(request, settings.corsOrigins());
      }
      if (m.route.management && settings.apiKeyHash() == null && !RequestChecks.local(request)) {
        throw new HttpError(403, "with no API key the management routes answer only clients on"
            + " this machine (loopback or the Unix socket) that call it by a local name"
            + " (localhost, 127.0.0.1, [::1]); set an API key to call them remotely");
      }
      if (m.route.body) {
        RequestChecks.jsonBody(request);
        readBody(request, ex, m.route, ContentEncoding.of(request));
      } else {
        dispatch(request, ex, m.route);
      }
    } catch (Throwable t) {
      ex.fail(t);
    } finally {
      AccessLog.exit();
    }
    return true;
  }

  private void readBody(Request request, Exchange ex, Route route, ContentEncoding encoding) {
    long max = settings.maxBodyBytes();
    long length = request.getLength();
    if (length > max) {
      throw new HttpError(ErrorCode.PAYLOAD_TOO_LARGE, "request body is larger than " + max
          + " bytes: " + length);
    }
    CompletableFuture<byte[]> read = Content.Source.asByteArrayAsync(request,
        (int) Math.min(max, Integer.MAX_VALUE - 8));
    if (!read.isDone()) {
      // The body is still coming: it has bodyTimeout to arrive. Most small bodies came with their
      // headers, and skip the timer (a shared scheduler queue's lock, twice per request).
      BodyTimeout late = new BodyTimeout(bodyTimeout);
      Scheduler.Task deadline = request.getComponents().getScheduler().schedule(
          () -> request.fail(late), bodyTimeout.toMillis(), TimeUnit.MILLISECONDS);
      read.whenComplete((bytes, failure) -> deadline.cancel());
    }
    read.whenComplete((bytes, failure) -> {
      if (failure != null) {
        Throwable t = Failure.unwrap(failure);
        if (t instanceof BodyTimeout) {
          ex.header(HttpHeader.CONNECTION.asString(), "close");
          ex.fail(new HttpError(408, String.valueOf(t.getMessage())));
        } else if (t instanceof IllegalStateException || t instanceof IllegalArgumentException) {
          // asByteArrayAsync refuses content past its maximum this way (chunked bodies).
          ex.fail(new HttpError(ErrorCode.PAYLOAD_TOO_LARGE, "request body is larger than "
              + max + " bytes"));
        } else {
          ex.fail(t);
        }
        return;
      }
      try {
        ex.body(encoding.decode(bytes, max));
      } catch (HttpError e) {
        ex.fail(e);
        return;
      }
      dispatch(request, ex, route);
    });
  }

  /** A body that did not arrive in time; no stack: it is a client's slowness, not a bug. */
  private static final class BodyTimeout extends java.util.concurrent.TimeoutException {
    private static final long serialVersionUID = 1L;

    BodyTimeout(Duration timeout) {
      super("the request body did not arrive within " + timeout.toMillis() + " ms");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }

  /**
   * Answers 503 {@code SHUTTING_DOWN} to every request not answered yet (a streamed one is cut
   * off); returns how many there were. For a shutdown whose grace period ran out.
   */
  public int cutInFlight(Duration grace) {
    int cut = 0;
    for (Exchange ex : List.copyOf(inFlight)) {
      cut++;
      ex.header(HttpHeader.CONNECTION.asString(), "close");
      ex.fail(new ModelServingException(ErrorCode.SHUTTING_DOWN, "the server stopped before"
          + " this request finished: its shutdown grace period of " + grace.toMillis()
          + " ms ran out; send it again to another instance"));
    }
    return cut;
  }

  /** Waits until no request is in flight or {@code deadlineNanos} ({@link System#nanoTime}). */
  public void awaitIdle(long deadlineNanos) throws InterruptedException {
    while (!inFlight.isEmpty() && System.nanoTime() - deadlineNanos < 0) {
      Thread.sleep(10);
    }
  }

  /** Runs the route here, or on Jetty's thread pool when it may block. */
  private static void dispatch(Request request, Exchange ex, Route route) {
    if (route.blocking) {
      request.getComponents().getExecutor().execute(() -> run(ex, route));
    } else {
      run(ex, route);
    }
  }

  private static void run(Exchange ex, Route matched) {
    AccessLog.enter(ex.requestId(), ex.traceId());
    Observation observation = ex.observation();
    // In scope while the route runs: what it submits to the model server becomes its child.
    Observation.Scope scope = observation == null ? null : observation.openScope();
    try {
      Route route = matched.choose(ex);
      if (route != matched) {
        ex.route(route.template, ex.params(), route.errors);
      }
      route.handler.handle(ex);
    } catch (Throwable t) {
      ex.fail(t);
    } finally {
      if (scope != null) {
        scope.close();
      }
      AccessLog.exit();
    }
  }

  private boolean authorized(Request request) {
    byte[] expected = settings.apiKeyHash();
    if (expected == null) {
      return true;
    }
    String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
    String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
        ? header.substring(7).trim() : "";
    // Both sides hashed to the same length, then compared in constant time.
    return MessageDigest.isEqual(expected, hash(given));
  }

  /** Adds CORS headers; answers a preflight itself and returns true then. */
  private boolean cors(Request request, Response response, Exchange ex) {
    String origin = request.getHeaders().get(HttpHeader.ORIGIN);
    Set<String> allowed = settings.corsOrigins();
    if (origin == null || allowed.isEmpty()) {
      return false;
    }
    if (!allowed.contains("*") && !allowed.contains(origin)) {
      return false;
    }
    response.getHeaders().put(HttpHeader.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    response.getHeaders().add(HttpHeader.VARY, "Origin");
    response.getHeaders().put(HttpHeader.ACCESS_CONTROL_EXPOSE_HEADERS, "X-Request-Id, Retry-After");
    if ("OPTIONS".equals(request.getMethod())
        && request.getHeaders().get(HttpHeader.ACCESS_CONTROL_REQUEST_METHOD) != null) {
      response.getHeaders().put(HttpHeader.ACCESS_CONTROL_ALLOW_METHODS,
          "GET, HEAD, POST, DELETE, OPTIONS");
      response.getHeaders().put(HttpHeader.ACCESS_CONTROL_ALLOW_HEADERS,
          "Authorization, Content-Type, X-Request-Id");
      response.getHeaders().put(HttpHeader.ACCESS_CONTROL_MAX_AGE, "600");
      ex.route("preflight", Map.of(), ErrorShape.PLAIN);
      ex.send(204, "text/plain", new byte[0]);
      return true;
    }
    return false;
  }

  private static String requestId(@Nullable String given) {
    if (given != null && !given.isEmpty() && given.length() <= MAX_REQUEST_ID
        && given.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      return given;
    }
    // Unique enough to follow a request through logs; SecureRandom (UUID.randomUUID) is not needed.
    ThreadLocalRandom random = ThreadLocalRandom.current();
    return new UUID((random.nextLong() & ~0xf000L) | 0x4000L,
        (random.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L).toString();
  }

  /**
   * Answers a request that a web server of the application's own received ({@code HostedRoutes}):
   * the route, its JSON and content-encoding checks, the body limit, the request id and the
   * timers as on the adapter's server; the host's server does the rest (TLS, authentication,
   * CORS, shutdown, access log). Runs the route on the calling thread: the host's routes are never
   * {@link Route#blocking()} ones.
   */
  public void serve(HostExchange host) {
    long start = System.nanoTime();
    String requestId = requestId(host.requestHeader("X-Request-Id"));
    host.responseHeader("X-Request-Id", requestId);
    Exchange ex = new Exchange(host, null, settings, requestId, start);
    AccessLog.enter(requestId);
    try {
      Match m = match(host.method(), host.path(), host);
      ex.route(m.route.template, m.params, m.route.errors);
      if (m.route.body) {
        RequestChecks.jsonBody(host.requestHeader("Content-Type"),
            host.requestHeader(RequestChecks.BINARY_TENSORS) != null);
        byte[] body = host.body();
        long max = settings.maxBodyBytes();
        if (body.length > max) {
          throw new HttpError(ErrorCode.PAYLOAD_TOO_LARGE, "request body is larger than " + max
              + " bytes: " + body.length);
        }
        ex.body(ContentEncoding.of(host.requestHeader("Content-Encoding")).decode(body, max));
      }
      run(ex, m.route);
    } catch (Throwable t) {
      ex.fail(t);
    } finally {
      AccessLog.exit();
    }
  }

  /** Returns each route's method and path template, in the order they match. */
  public List<Map.Entry<String, String>> table() {
    return routes.stream().map(r -> Map.entry(r.method, r.template)).toList();
  }

  /** Finds the route; a path some route takes with another method gets 405 and {@code Allow}. */
  private Match match(String method, String path, HostExchange response) {
    String[] segments = split(path);
    Set<String> allowed = new LinkedHashSet<>();
    for (Route r : routes) {
      Map<String, String> params = r.match(segments);
      if (params != null) {
        if (r.method.equals(method)) {
          return new Match(r, params);
        }
        allowed.add(r.method);
      }
    }
    if (!allowed.isEmpty()) {
      response.responseHeader(HttpHeader.ALLOW.asString(), String.join(", ", allowed));
      throw new HttpError(405, method + " is not allowed on " + ClientText.echo(path) + "; use "
          + String.join(", ", allowed));
    }
    throw new HttpError(404, "no route for " + ClientText.echo(method) + " "
        + ClientText.echo(path));
  }

  static String[] split(String path) {
    String p = path.startsWith("/") ? path.substring(1) : path;
    if (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p.isEmpty() ? new String[0] : p.split("/", -1);
  }

  private record Match(Route route, Map<String, String> params) {}
}
