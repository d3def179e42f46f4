package dev.modserv.http.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;

/**
 * The adapter's one Jetty handler: request id, CORS, API key, body limit, then the route.
 *
 * <p>It is a non-blocking handler: Jetty runs it on the thread that read the request, often a
 * selector, with no hand-off. So nothing here waits: bodies are read asynchronously, routes that
 * touch files or wait are marked blocking and run on Jetty's thread pool, and model calls leave
 * this thread only when they would block it ({@link ModelCalls}).
 */
public final class Router extends Handler.Abstract.NonBlocking {
  private static final int MAX_REQUEST_ID = 128;

  private final Settings settings;
  private final List<Route> routes = new ArrayList<>();

  /** Builds the routes of every enabled dialect. */
  public Router(Settings settings) {
    this.settings = settings;
    Operations ops = new Operations(settings);
    get("/health", true, ops::health);
    get("/ready", true, ops::ready);
    get("/metrics", false, ops::metrics);

    NativeApi nat = new NativeApi(settings);
    get("/api/health", true, ops::apiHealth);
    get("/api/models", false, nat::models);
    post("/api/predict", nat::predict);
    post("/api/batch-predict", nat::batchPredict);
    LlmApis llm = new LlmApis(settings);
    LlmGeneration gen = new LlmGeneration(settings);
    post("/api/generate", ex -> nat.generate(ex, gen::ollamaGenerate));
    post("/predict", nat::camelPredict);
    post("/batch-predict", nat::camelBatchPredict);

    OipApi oip = new OipApi(settings);
    get("/v2", false, oip::serverMetadata);
    get("/v2/health/live", true, oip::live);
    get("/v2/health/ready", true, oip::ready);
    get("/v2/models/{m}", false, oip::modelMetadata);
    get("/v2/models/{m}/versions/{v}", false, oip::modelMetadata);
    get("/v2/models/{m}/ready", false, oip::modelReady);
    get("/v2/models/{m}/versions/{v}/ready", false, oip::modelReady);
    post("/v2/models/{m}/infer", oip::infer);
    post("/v2/models/{m}/versions/{v}/infer", oip::infer);

    if (settings.modelRoot() != null) {
      ManagementApi mgmt = new ManagementApi(settings);
      // It touches the file system: off the I/O thread.
      routes.add(new Route("POST", "/models", false, true, true, mgmt::load));
      get("/models", false, mgmt::list);
      get("/models/{name}", false, mgmt::describe);
      routes.add(new Route("DELETE", "/models/{name}", false, false, false, mgmt::unload));
      routes.add(new Route("DELETE", "/models/{name}/versions/{v}", false, false, false,
          mgmt::unload));
      post("/models/{name}/inference", ex -> nat.modelInference(ex, gen::management));
      OipRepository repo = new OipRepository(settings, mgmt);
      // These touch the file system: off the I/O thread.
      routes.add(new Route("POST", "/v2/repository/index", false, true, true, repo::index));
      routes.add(new Route("POST", "/v2/repository/models/{m}/load", false, true, true,
          repo::load));
      post("/v2/repository/models/{m}/unload", repo::unload);
    }
    NodeFit fit = new NodeFit(settings);
    // /proc reads: off the I/O thread.
    routes.add(new Route("GET", "/api/v1/system", false, false, true, fit::system));
    routes.add(new Route("GET", "/api/v1/models", false, false, true, fit::models));
    routes.add(new Route("GET", "/api/v1/models/top", false, false, true, fit::top));
    routes.add(new Route("GET", "/api/v1/models/{name}", false, false, true, fit::model));

    // OpenAI: errors in its own shape.
    routes.add(new Route("GET", "/v1/models", false, false, false, llm::openAiModels,
        ErrorFormat.OPENAI));
    routes.add(new Route("GET", "/v1/models/{model}", false, false, false, llm::openAiModel,
        ErrorFormat.OPENAI));
    routes.add(new Route("POST", "/v1/embeddings", false, true, false, llm::openAiEmbeddings,
        ErrorFormat.OPENAI));
    routes.add(new Route("POST", "/v1/chat/completions", false, true, false, gen::openAiChat,
        ErrorFormat.OPENAI));
    routes.add(new Route("POST", "/v1/completions", false, true, false, gen::openAiCompletion,
        ErrorFormat.OPENAI));

    // Ollama: "/" is its liveness answer, open like /health.
    get("/", true, llm::ollamaRunning);
    routes.add(new Route("HEAD", "/", true, false, false, llm::ollamaRunning));
    get("/api/version", true, llm::ollamaVersion);
    routes.add(new Route("HEAD", "/api/version", true, false, false, llm::ollamaVersion));
    get("/api/tags", false, llm::ollamaTags);
    routes.add(new Route("HEAD", "/api/tags", false, false, false, llm::ollamaTags));
    get("/api/ps", false, llm::ollamaPs);
    post("/api/show", llm::ollamaShow);
    post("/api/embed", llm::ollamaEmbed);
    post("/api/embeddings", llm::ollamaEmbeddings);
    post("/api/chat", gen::ollamaChat);
  }

  private void get(String template, boolean open, RouteHandler h) {
    routes.add(new Route("GET", template, open, false, false, h));
  }

  private void post(String template, RouteHandler h) {
    routes.add(new Route("POST", template, false, true, false, h));
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
    Exchange ex = new Exchange(request, response, callback, settings, requestId, start);
    AccessLog.enter(requestId);
    try {
      if (cors(request, response, ex)) {
        return true;
      }
      String method = request.getMethod();
      String path = Request.getPathInContext(request);
      Match m = match(method, path);
      ex.route(m.route.template, m.params, m.route.errors);
      if (!m.route.open && !authorized(request)) {
        response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
        ex.error(401, "missing or wrong API key");
        return true;
      }
      if (m.route.body) {
        readBody(request, ex, m.route);
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

  private void readBody(Request request, Exchange ex, Route route) {
    long max = settings.maxBodyBytes();
    long length = request.getLength();
    if (length > max) {
      throw new HttpError(413, "request body is larger than " + max + " bytes: " + length);
    }
    Content.Source.asByteArrayAsync(request, (int) Math.min(max, Integer.MAX_VALUE - 8))
        .whenComplete((bytes, failure) -> {
          if (failure != null) {
            Throwable t = Exchange.unwrap(failure);
            if (t instanceof IllegalStateException || t instanceof IllegalArgumentException) {
              // asByteArrayAsync refuses content past its maximum this way (chunked bodies).
              ex.fail(new HttpError(413, "request body is larger than " + max + " bytes"));
            } else {
              ex.fail(t);
            }
            return;
          }
          ex.body(bytes);
          dispatch(request, ex, route);
        });
  }

  /** Runs the route here, or on Jetty's thread pool when it may block. */
  private static void dispatch(Request request, Exchange ex, Route route) {
    if (route.blocking) {
      request.getComponents().getExecutor().execute(() -> run(ex, route));
    } else {
      run(ex, route);
    }
  }

  private static void run(Exchange ex, Route route) {
    AccessLog.enter(ex.requestId());
    try {
      route.handler.handle(ex);
    } catch (Throwable t) {
      ex.fail(t);
    } finally {
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
      ex.route("preflight", Map.of(), ErrorFormat.PLAIN);
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

  private Match match(String method, String path) {
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
      throw new HttpError(405, method + " is not allowed on " + path + "; use "
          + String.join(", ", allowed));
    }
    throw new HttpError(404, "no route for " + method + " " + path);
  }

  private static String[] split(String path) {
    String p = path.startsWith("/") ? path.substring(1) : path;
    if (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p.isEmpty() ? new String[0] : p.split("/", -1);
  }

  /** A route's handler. */
  @FunctionalInterface
  interface RouteHandler {
    void handle(Exchange ex) throws Exception;
  }

  private record Match(Route route, Map<String, String> params) {}

  private static final class Route {
    final String method;
    final String template;
    final boolean open;
    final boolean body;
    /** Whether it may wait (files, locks): then it runs on Jetty's pool, not the I/O thread. */
    final boolean blocking;
    final RouteHandler handler;
    final ErrorFormat errors;
    final String[] parts;

    Route(String method, String template, boolean open, boolean body, boolean blocking,
        RouteHandler handler) {
      this(method, template, open, body, blocking, handler, ErrorFormat.PLAIN);
    }

    Route(String method, String template, boolean open, boolean body, boolean blocking,
        RouteHandler handler, ErrorFormat errors) {
      this.method = method;
      this.errors = errors;
      this.template = template;
      this.open = open;
      this.body = body;
      this.blocking = blocking;
      this.handler = handler;
      this.parts = split(template);
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
}
