package dev.modserv.http;

import dev.modserv.core.ModelServer;
import dev.modserv.http.internal.DialectRoutes;
import dev.modserv.http.internal.FitSettings;
import dev.modserv.http.internal.HeaderDeadline;
import dev.modserv.http.internal.JsonErrorHandler;
import dev.modserv.http.internal.ModelCalls;
import dev.modserv.http.internal.Readiness;
import dev.modserv.http.internal.RequestTimers;
import dev.modserv.http.internal.ResumingThreadPool;
import dev.modserv.http.internal.RoundSelector;
import dev.modserv.http.internal.Router;
import dev.modserv.http.internal.Settings;
import dev.modserv.http.internal.UnixSocketFile;
import dev.modserv.http.internal.management.ManagementApi;
import dev.modserv.http.internal.nativeapi.NativeApi;
import dev.modserv.http.internal.nodefit.NodeFit;
import dev.modserv.http.internal.oip.OipApi;
import dev.modserv.http.internal.ollama.OllamaApi;
import dev.modserv.http.internal.openai.OpenAiApi;
import dev.modserv.http.internal.operations.Operations;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a {@link ModelServer} over HTTP in the {@link Dialect}s chosen (all by default): the
 * native API ({@code /api/predict}, ...), the Open Inference Protocol v2 ({@code /v2/...}), the
 * management API ({@code /models}, off unless a model root is given), OpenAI ({@code /v1/...}),
 * Ollama and the node fit report, and always operations ({@code /health}, {@code /ready}, {@code
 * /metrics}). See {@code docs/http.md} for every endpoint and its JSON.
 *
 * <p>Pre- and post-processing belong to the model, not the adapter: set them with {@code
 * ModelConfig.Builder.processing} and every dialect applies them, as {@code ModelServer.infer}
 * does ({@code docs/processing.md}). A native-API request may bring its own for that call.
 *
 * <pre>{@code
 * try (HttpAdapter http = HttpAdapter.builder(server).port(8080).build()) {
 *   http.start();
 *   ...
 * }
 * }</pre>
 *
 * <p>Standalone, {@link #start()} runs a Jetty server with a TCP connector and, when {@link
 * Builder#unixSocket(Path)} is set, a Unix domain socket connector. To mount the routes in a Jetty
 * 12 server of your own instead, use {@link #handler()} and do not call {@code start()}.
 *
 * <h2>Shutdown</h2>
 *
 * {@link #close()} makes readiness answer 503 and refuses new requests (503 {@code SHUTTING_DOWN})
 * while the listener stays open, lets requests in flight finish within the grace period, answers
 * 503 to those still running when it ends ({@link #requestsCut()}), then closes the listener. The
 * {@code ModelServer} stays open: its owner closes it, which unloads the models.
 */
public final class HttpAdapter implements AutoCloseable {
  /** How long a selector polls for the next request before it sleeps, unless told. */
  public static final long DEFAULT_SELECTOR_SPIN_MICROS = 50;
  private static final Duration DEFAULT_SELECTOR_SPIN =
      Duration.ofNanos(DEFAULT_SELECTOR_SPIN_MICROS * 1000);
  private static final Duration MAX_SELECTOR_SPIN = Duration.ofMillis(10);
  /** Most selectors a connector may have: each holds one of Jetty's 200 pool threads. */
  public static final int MAX_SELECTORS = 64;
  private static final Logger log = LoggerFactory.getLogger(HttpAdapter.class);

  private final Settings settings;
  private final Router router;
  private final int port;
  private final String host;
  private final @Nullable Path unixSocket;
  private final @Nullable UnixSocketFile socketFile;
  private final Duration gracePeriod;
  private final Duration selectorSpin;
  private final int selectors;
  private final HeaderDeadline headerDeadline;
  private volatile int requestsCut;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile @Nullable Server jetty;
  private volatile int localPort = -1;

  private HttpAdapter(Builder b) {
    this.port = b.port;
    this.host = b.host;
    this.unixSocket = b.unixSocket;
    this.socketFile = b.unixSocket == null ? null : new UnixSocketFile(b.unixSocket);
    this.gracePeriod = b.gracePeriod;
    this.selectorSpin = b.selectorSpin;
    this.selectors = b.selectors > 0 ? b.selectors : RoundSelector.perConnector();
    this.headerDeadline = new HeaderDeadline(b.headerTimeout);
    Meters meters = meters(b.registry != null ? b.registry
        : b.server.meterRegistry().orElse(null));
    AtomicBoolean accepting = new AtomicBoolean(true);
    this.settings = new Settings(b.server, b.apiKey == null ? null : Router.hash(b.apiKey),
        b.maxBodyBytes, Set.copyOf(b.corsOrigins), b.modelRoot,
        new Readiness(dev.modserv.core.Readiness.of(b.server.registry(), b.requiredModels,
            b.strictReadiness), accepting),
        meters.registry(), meters.prometheus(), b.observations != null ? b.observations
            : b.server.observationRegistry(), new RequestTimers(meters.registry()),
        new ModelCalls(b.server), accepting, version(),
        new FitSettings(b.fitCatalog, b.fitMemory, b.fitMaxContext));
    this.router = new Router(settings, routes(settings, b.dialects), b.bodyTimeout);
  }

  /** Where HTTP meters go, and the Prometheus registry {@code /metrics} scrapes. */
  private record Meters(MeterRegistry registry, PrometheusMeterRegistry prometheus) {}

  private static Meters meters(@Nullable MeterRegistry given) {
    if (given == null) {
      PrometheusMeterRegistry own = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      return new Meters(own, own);
    }
    PrometheusMeterRegistry found = prometheusIn(given);
    if (found != null) {
      return new Meters(given, found);
    }
    PrometheusMeterRegistry own = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    if (given instanceof CompositeMeterRegistry composite) {
      composite.add(own);
      return new Meters(composite, own);
    }
    // Another kind of registry keeps its meters; /metrics shows the adapter's own.
    return new Meters(new CompositeMeterRegistry().add(given).add(own), own);
  }

  /** The Prometheus registry {@code registry} is, or holds (a composite's, recursively). */
  private static @Nullable PrometheusMeterRegistry prometheusIn(MeterRegistry registry) {
    if (registry instanceof PrometheusMeterRegistry p) {
      return p;
    }
    if (registry instanceof CompositeMeterRegistry composite) {
      for (MeterRegistry r : composite.getRegistries()) {
        PrometheusMeterRegistry p = prometheusIn(r);
        if (p != null) {
          return p;
        }
      }
    }
    return null;
  }

  /** Operations first, then each enabled dialect's routes, in the enum's order. */
  private static List<DialectRoutes> routes(Settings settings, Set<Dialect> dialects) {
    List<DialectRoutes> routes = new ArrayList<>();
    routes.add(new Operations(settings));
    routes.addAll(dialectRoutes(settings, dialects));
    return routes;
  }

  /** Each enabled dialect's routes, in the enum's order (no operations routes). */
  static List<DialectRoutes> dialectRoutes(Settings settings, Set<Dialect> dialects) {
    List<DialectRoutes> routes = new ArrayList<>();
    for (Dialect d : dialects) {
      switch (d) {
        case NATIVE -> routes.add(new NativeApi(settings));
        case OIP -> routes.add(new OipApi(settings));
        case MANAGEMENT -> {
          if (settings.modelRoot() != null) {
            routes.add(new ManagementApi(settings));
          }
        }
        case OPENAI -> routes.add(new OpenAiApi(settings));
        case OLLAMA -> routes.add(new OllamaApi(settings));
        case NODE_FIT -> routes.add(new NodeFit(settings));
      }
    }
    return routes;
  }

  /** Returns a builder for an adapter over {@code server}. */
  public static Builder builder(ModelServer server) {
    return new Builder(Objects.requireNonNull(server, "server"));
  }

  /**
   * Returns the adapter's routes as a Jetty core handler, to mount in a server of your own. It is
   * the same handler {@link #start()} runs.
   */
  public Handler handler() {
    return router;
  }

  /**
   * Starts the standalone server.
   *
   * @throws IllegalStateException when started twice or after close
   * @throws UncheckedIOException when a connector cannot bind, or the Unix socket path holds a file
   *     that is not a socket or a socket that another server answers on (a stale socket, one no
   *     server answers on, is replaced)
   */
  public void start() {
    if (closed.get()) {
      throw new IllegalStateException("the adapter is closed");
    }
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("the adapter was already started");
    }
    Server server = new Server(new ResumingThreadPool());
    server.setErrorHandler(new JsonErrorHandler());
    ServerConnector tcp = RoundSelector.tcp(server, selectors, selectorSpin, http());
    tcp.setHost(host);
    tcp.setPort(port);
    tcp.addEventListener(headerDeadline);
    server.addConnector(tcp);
    if (socketFile != null) {
      try {
        socketFile.clear();
      } catch (IOException e) {
        throw new UncheckedIOException(e.getMessage(), e);
      }
      UnixDomainServerConnector uds = RoundSelector.unixDomain(server, selectors, selectorSpin,
          http());
      uds.setUnixDomainPath(socketFile.bindPath());
      uds.addEventListener(headerDeadline);
      server.addConnector(uds);
    }
    // Inside out: the router exists before the wrapper that holds it (http-stacks.md).
    server.setHandler(new GracefulHandler(router));
    server.setStopTimeout(gracePeriod.toMillis());
    try {
      server.start();
      headerDeadline.start(server.getScheduler());
      if (socketFile != null) {
        socketFile.publish();
      }
    } catch (Exception e) {
      try {
        server.stop();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new UncheckedIOException(new IOException("could not start the HTTP server on "
          + host + ":" + port + (unixSocket == null ? "" : " and " + unixSocket) + ": "
          + e.getMessage(), e));
    }
    jetty = server;
    localPort = tcp.getLocalPort();
    log.info("modserv HTTP adapter listening on {}:{}{}", host, localPort,
        unixSocket == null ? "" : " and unix:" + unixSocket);
  }

  /** HTTP/1.1 that names no server software or version in its answers. */
  private static HttpConnectionFactory http() {
    HttpConfiguration config = new HttpConfiguration();
    config.setSendServerVersion(false);
    config.setSendXPoweredBy(false);
    return new HttpConnectionFactory(config);
  }

  /**
   * Returns the TCP port the standalone server listens on (the chosen one for port 0).
   *
   * @throws IllegalStateException before {@link #start()}
   */
  public int port() {
    if (localPort < 0) {
      throw new IllegalStateException("the adapter is not started");
    }
    return localPort;
  }

  /** Returns the Unix domain socket path, when one was configured. */
  public Optional<Path> unixSocket() {
    return Optional.ofNullable(unixSocket);
  }

  /** Returns the routes served, as {@code GET /api/v1/models}, in the order they were added. */
  public List<String> routes() {
    return router.routes();
  }

  /** Returns the Prometheus registry whose meters {@code /metrics} shows. */
  public PrometheusMeterRegistry meterRegistry() {
    return settings.prometheus();
  }

  /**
   * Returns how many requests {@link #close()} answered 503 because they were still running when
   * its grace period ran out; 0 before close and after a clean one.
   */
  public int requestsCut() {
    return requestsCut;
  }

  /**
   * Stops: readiness answers 503 and new requests are refused with 503 while the listener stays
   * open, requests in flight finish within the grace period (those still running then are
   * answered 503), then the listener closes and the server stops. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    settings.accepting().set(false);
    Server server = jetty;
    if (server != null) {
      try {
        router.awaitIdle(System.nanoTime() + gracePeriod.toNanos());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      int cut = router.cutInFlight(gracePeriod);
      if (cut > 0) {
        requestsCut = cut;
        log.warn("the grace period of {} ms ran out: {} request(s) still running were answered"
            + " 503", gracePeriod.toMillis(), cut);
      }
      headerDeadline.stop();
      // What is left is the writing of answers already given.
      server.setStopTimeout(Math.min(gracePeriod.toMillis(), 1000));
      try {
        server.stop();
      } catch (java.util.concurrent.TimeoutException e) {
        // Connections a client kept open past the answers: Jetty closes them now.
        log.debug("connections still open at stop were closed", e);
      } catch (Exception e) {
        log.warn("the HTTP server did not stop cleanly", e);
      }
    }
    if (socketFile != null) {
      socketFile.release();
    }
  }

  static String version() {
    try (InputStream in = HttpAdapter.class.getResourceAsStream(
        "/dev/modserv/http/internal/version.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        return p.getProperty("version", "unknown");
      }
    } catch (IOException e) {
      log.debug("no version resource", e);
    }
    return "unknown";
  }

  /** Options of an {@link HttpAdapter}; each may be set once. */
  public static final class Builder {
    private final ModelServer server;
    private int port = 8080;
    private boolean portSet;
    private String host = "127.0.0.1";
    private boolean hostSet;
    private @Nullable Path unixSocket;
    private @Nullable String apiKey;
    private long maxBodyBytes = 16L << 20;
    private boolean maxBodySet;
    private final Set<String> corsOrigins = new LinkedHashSet<>();
    private @Nullable Path modelRoot;
    private Duration gracePeriod = Duration.ofSeconds(30);
    private boolean graceSet;
    private Duration selectorSpin = DEFAULT_SELECTOR_SPIN;
    private boolean selectorSpinSet;
    private int selectors;
    private final List<String> requiredModels = new ArrayList<>();
    private boolean strictReadiness = true;
    private boolean strictReadinessSet;
    private Duration headerTimeout = Duration.ofSeconds(20);
    private Duration bodyTimeout = Duration.ofSeconds(60);
    private boolean readTimeoutsSet;
    private @Nullable MeterRegistry registry;
    private @Nullable ObservationRegistry observations;
    private final Set<Dialect> dialects = EnumSet.allOf(Dialect.class);
    private boolean dialectsSet;
    private List<FitCandidate> fitCatalog = List.of();
    private long fitMemory = -1;
    private int fitMaxContext;

    private Builder(ModelServer server) {
      this.server = server;
    }

    private static void once(boolean set, String what) {
      if (set) {
        throw new IllegalStateException(what + " was already set");
      }
    }

    /** The TCP port, 0 for an ephemeral one; defaults to 8080. */
    public Builder port(int port) {
      once(portSet, "port");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be in 0..65535: " + port);
      }
      this.port = port;
      this.portSet = true;
      return this;
    }

    /** The address the TCP connector binds; defaults to {@code 127.0.0.1} (loopback only). */
    public Builder host(String host) {
      once(hostSet, "host");
      if (host.isBlank()) {
        throw new IllegalArgumentException("host must not be blank");
      }
      this.host = host;
      this.hostSet = true;
      return this;
    }

    /** Also listen on this Unix domain socket path; defaults to none. */
    public Builder unixSocket(Path path) {
      once(unixSocket != null, "unixSocket");
      this.unixSocket = Objects.requireNonNull(path, "path");
      return this;
    }

    /**
     * Requires {@code Authorization: Bearer <key>} on every route except liveness and readiness;
     * defaults to no key.
     */
    public Builder apiKey(String key) {
      once(apiKey != null, "apiKey");
      if (key.isEmpty()) {
        throw new IllegalArgumentException("apiKey must not be empty");
      }
      this.apiKey = key;
      return this;
    }

    /** The largest request body taken; larger ones get 413. Defaults to 16 MiB. */
    public Builder maxBodyBytes(long bytes) {
      once(maxBodySet, "maxBodyBytes");
      if (bytes < 1 || bytes > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("maxBodyBytes must be in 1.." + (Integer.MAX_VALUE - 8)
            + ": " + bytes);
      }
      this.maxBodyBytes = bytes;
      this.maxBodySet = true;
      return this;
    }

    /** Origins allowed cross-origin requests ({@code *} for any); defaults to none. */
    public Builder corsOrigins(String... origins) {
      once(!corsOrigins.isEmpty(), "corsOrigins");
      for (String o : origins) {
        if (o.isBlank()) {
          throw new IllegalArgumentException("a CORS origin must not be blank");
        }
        corsOrigins.add(o);
      }
      return this;
    }

    /**
     * Turns the management API on ({@code POST /models} loads files): models load only from inside
     * {@code root}, which must be an existing directory. Defaults to off.
     */
    public Builder management(Path root) {
      once(modelRoot != null, "management");
      try {
        Path real = root.toRealPath();
        if (!Files.isDirectory(real)) {
          throw new IllegalArgumentException("model root is not a directory: " + root);
        }
        this.modelRoot = real;
      } catch (IOException e) {
        throw new IllegalArgumentException("model root does not exist: " + root, e);
      }
      return this;
    }

    /** How long {@link #close()} waits for requests in flight; defaults to 30 seconds. */
    public Builder gracePeriod(Duration grace) {
      once(graceSet, "gracePeriod");
      if (grace.isNegative()) {
        throw new IllegalArgumentException("gracePeriod must be >= 0: " + grace);
      }
      this.gracePeriod = grace;
      this.graceSet = true;
      return this;
    }

    /**
     * How long a connector's selector thread polls for the next request before it sleeps, while
     * its requests come within that of each other (on average); defaults to {@value
     * #DEFAULT_SELECTOR_SPIN_MICROS} µs, and {@link Duration#ZERO} turns polling off. A request
     * that comes while it polls is read by a thread that is awake, on a core whose caches still
     * hold the model: on a small virtual machine that takes about 40 µs off each request over one
     * connection (docs/http.md has the figures). It costs up to this much of a core's time for each wait, while requests
     * come that close together; a selector whose requests come further apart sleeps at once.
     *
     * @throws IllegalArgumentException when negative or over 10 ms
     */
    public Builder selectorSpin(Duration spin) {
      once(selectorSpinSet, "selectorSpin");
      if (spin.isNegative() || spin.compareTo(MAX_SELECTOR_SPIN) > 0) {
        throw new IllegalArgumentException("selectorSpin must be in 0..10ms: " + spin);
      }
      this.selectorSpin = spin;
      this.selectorSpinSet = true;
      return this;
    }

    /**
     * How many selector threads each connector has; defaults to half the cores, at least one, as
     * Jetty's own default. A selector reads its connections' requests, runs their model calls as
     * one batch at the end of each round of reads and writes the answers, all on its own thread,
     * so the selectors are the threads that serve requests: more of them use more cores when
     * many connections are busy, and smaller batches. On a machine whose cores also run the
     * clients, a selector per core served 6–15% more requests a second at 16 connections on 2
     * cores than one selector did, with a p99 about 1.45 times as long: a selector that is
     * descheduled stalls every connection it holds (docs/http.md).
     *
     * @throws IllegalArgumentException when not in 1..{@value #MAX_SELECTORS}
     * @throws IllegalStateException when set twice
     */
    public Builder selectors(int count) {
      once(selectors > 0, "selectors");
      if (count < 1 || count > MAX_SELECTORS) {
        throw new IllegalArgumentException(
            "selectors must be in 1.." + MAX_SELECTORS + ": " + count);
      }
      this.selectors = count;
      return this;
    }

    /**
     * Readiness waits until {@code name} can be served (a READY version, or one that loads on
     * demand); may be called for many models. Once the registry has known it, a model that leaves
     * it (removed from the repository, unloaded on purpose) is no longer waited for.
     */
    public Builder requireModel(String name) {
      if (name.isEmpty() || requiredModels.contains(name)) {
        throw new IllegalArgumentException("required model is empty or given twice: '" + name
            + "'");
      }
      requiredModels.add(name);
      return this;
    }

    /**
     * Whether a required model whose load FAILED keeps readiness at 503; defaults to true (as
     * Triton's strict readiness). With false, such a model is left out of readiness.
     */
    public Builder strictReadiness(boolean strict) {
      once(strictReadinessSet, "strictReadiness");
      this.strictReadiness = strict;
      this.strictReadinessSet = true;
      return this;
    }

    /**
     * How long a client may take to send a request's headers (from their first byte) and then its
     * body; a slower one is cut off (headers: the connection closes; body: 408). Defaults to 20
     * and 60 seconds.
     */
    public Builder readTimeouts(Duration headers, Duration body) {
      once(readTimeoutsSet, "readTimeouts");
      if (headers.toMillis() < 1 || body.toMillis() < 1) {
        throw new IllegalArgumentException("read timeouts must be at least 1 ms: " + headers
            + ", " + body);
      }
      this.headerTimeout = headers;
      this.bodyTimeout = body;
      this.readTimeoutsSet = true;
      return this;
    }

    /**
     * The registry HTTP meters go to, any Micrometer registry: {@code /metrics} shows the {@code
     * PrometheusMeterRegistry} it is or holds (in a composite); a composite that holds none gets
     * one of the adapter's added, and for any other registry {@code /metrics} shows one of the
     * adapter's own. Defaults to the {@code ModelServer}'s registry ({@code
     * ModelServer.Builder.meterRegistry}), else a new Prometheus registry ({@code docs/metrics.md}).
     */
    public Builder meterRegistry(MeterRegistry registry) {
      once(this.registry != null, "meterRegistry");
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Observes every request into {@code registry} ({@value
     * dev.modserv.http.internal.RequestObservation#NAME}): with a tracing bridge, an incoming W3C
     * {@code traceparent} is continued, the answer carries the request span's {@code traceparent},
     * and the model server's spans are its children ({@code docs/tracing.md}). Defaults to the
     * {@code ModelServer}'s ({@code ModelServer.Builder.observationRegistry}), none unless set.
     */
    public Builder observationRegistry(ObservationRegistry registry) {
      once(this.observations != null, "observationRegistry");
      this.observations = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Serves only these dialects; defaults to all of them. Operations ({@code /health}, {@code
     * /ready}, {@code /metrics}) are always served; {@link Dialect#MANAGEMENT} needs {@link
     * #management(Path)} too. A request to a route of a dialect not served gets 404.
     */
    public Builder dialects(Dialect... served) {
      once(dialectsSet, "dialects");
      if (served.length == 0) {
        throw new IllegalArgumentException("give at least one dialect");
      }
      dialects.clear();
      for (Dialect d : served) {
        dialects.add(Objects.requireNonNull(d, "dialect"));
      }
      dialectsSet = true;
      return this;
    }

    /**
     * Models this node does not hold that the node fit report ({@code /api/v1/models}) rates too,
     * so that a scheduler can ask about them; defaults to none.
     */
    public Builder fitCatalog(List<FitCandidate> candidates) {
      once(!fitCatalog.isEmpty(), "fitCatalog");
      this.fitCatalog = List.copyOf(candidates);
      return this;
    }

    /**
     * Rates every model in the node fit report against {@code bytes} of memory instead of the
     * memory available now (the reference's {@code --memory}); defaults to what is available.
     */
    public Builder fitMemory(long bytes) {
      once(fitMemory >= 0, "fitMemory");
      if (bytes < 1) {
        throw new IllegalArgumentException("fitMemory must be at least 1 byte: " + bytes);
      }
      this.fitMemory = bytes;
      return this;
    }

    /**
     * Sizes context caches in the node fit report for at most {@code tokens} tokens (the
     * reference's {@code --max-context}); defaults to each model's own context.
     */
    public Builder fitMaxContext(int tokens) {
      once(fitMaxContext > 0, "fitMaxContext");
      if (tokens < 1) {
        throw new IllegalArgumentException("fitMaxContext must be at least 1 token: " + tokens);
      }
      this.fitMaxContext = tokens;
      return this;
    }

    /** Builds the adapter; {@link HttpAdapter#start()} starts it. */
    public HttpAdapter build() {
      return new HttpAdapter(this);
    }
  }
}
