package dev.modserv.grpc;

import dev.modserv.core.ModelServer;
import dev.modserv.core.Readiness;
import dev.modserv.grpc.internal.ApiKeyCheck;
import dev.modserv.grpc.internal.Health;
import dev.modserv.grpc.internal.InferenceService;
import dev.modserv.grpc.internal.LocalRepositoryCheck;
import dev.modserv.grpc.internal.Settings;
import dev.modserv.grpc.internal.UnixSocket;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a {@link ModelServer} over gRPC: the Open Inference Protocol v2 service {@code
 * inference.GRPCInferenceService} (what Triton's {@code tritonclient.grpc} and KServe's gRPC
 * clients call: health, metadata, inference and, with a model root, the repository extension) and
 * the standard {@code grpc.health.v1.Health}. See {@code docs/grpc.md}.
 *
 * <pre>{@code
 * try (GrpcAdapter grpc = GrpcAdapter.builder(server).port(8001).build()) {
 *   grpc.start();
 *   ...
 * }
 * }</pre>
 *
 * <p>Standalone, {@link #start()} runs a grpc-java server on a TCP port and, when {@link
 * Builder#unixSocket(Path)} is set, a second one on a Unix domain socket. To serve from a gRPC
 * server of your own instead, add {@link #service()} and {@link #healthService()} to it and do not
 * call {@code start()}.
 *
 * <h2>Shutdown</h2>
 *
 * {@link #close()} makes readiness and health answer not serving, stops taking calls, lets calls
 * in flight finish within the grace period, then cancels the rest. The {@code ModelServer} stays
 * open: its owner closes it.
 */
public final class GrpcAdapter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GrpcAdapter.class);

  private final Settings settings;
  private final BindableService service;
  private final BindableService health;
  private final int port;
  private final String host;
  private final @Nullable UnixSocket socket;
  private final Duration gracePeriod;
  private final int maxMessageBytes;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final List<Server> servers = new ArrayList<>();
  private volatile int localPort = -1;

  private GrpcAdapter(Builder b) {
    this.settings = new Settings(b.server, b.modelRoot,
        Readiness.of(b.server.registry(), b.requiredModels, b.strictReadiness),
        new AtomicBoolean(true), version());
    InferenceService inference = new InferenceService(settings);
    Health healthService = new Health(settings);
    this.service = b.apiKey == null ? intercepted(inference, new LocalRepositoryCheck())
        : intercepted(inference, new ApiKeyCheck(b.apiKey));
    this.health = healthService;
    this.port = b.port;
    this.host = b.host;
    this.socket = b.unixSocket == null ? null : new UnixSocket(b.unixSocket);
    this.gracePeriod = b.gracePeriod;
    this.maxMessageBytes = b.maxMessageBytes;
  }

  private static BindableService intercepted(BindableService s, ServerInterceptor check) {
    ServerServiceDefinition definition = ServerInterceptors.intercept(s, check);
    return () -> definition;
  }

  /** Returns a builder for an adapter over {@code server}. */
  public static Builder builder(ModelServer server) {
    return new Builder(Objects.requireNonNull(server, "server"));
  }

  /**
   * Returns the inference service ({@code inference.GRPCInferenceService}, with the API key check
   * when one is set), to add to a gRPC server of your own. It is the service {@link #start()}
   * serves.
   */
  public BindableService service() {
    return service;
  }

  /** Returns the {@code grpc.health.v1.Health} service {@link #start()} serves (open, no key). */
  public BindableService healthService() {
    return health;
  }

  /**
   * Starts the standalone servers.
   *
   * @throws IllegalStateException when started twice or after close
   * @throws UncheckedIOException when the port or the socket cannot be bound, or the socket path
   *     holds a file that is not a socket or a socket another server answers on (a stale socket is
   *     replaced)
   */
  public void start() {
    if (closed.get()) {
      throw new IllegalStateException("the adapter is closed");
    }
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("the adapter was already started");
    }
    try {
      if (port >= 0) {
        Server tcp = configure(NettyServerBuilder.forAddress(new InetSocketAddress(host, port)))
            .build().start();
        servers.add(tcp);
        localPort = tcp.getPort();
      }
      if (socket != null) {
        servers.add(socket.start(this::configure));
      }
    } catch (IOException | RuntimeException e) {
      servers.forEach(Server::shutdownNow);
      throw new UncheckedIOException(new IOException("could not start the gRPC server on " + host
          + ":" + port + (socket == null ? "" : " and " + socket.path()) + ": " + e.getMessage(),
          e));
    }
    log.info("modserv gRPC adapter listening on {}{}", port < 0 ? "" : host + ":" + localPort
        + (socket == null ? "" : " and "), socket == null ? "" : "unix:" + socket.path());
  }

  private NettyServerBuilder configure(NettyServerBuilder b) {
    // Handlers never block (inference is asynchronous): they run on the event loop, which saves
    // a thread hop per call.
    return b.directExecutor().addService(service).addService(health)
        .maxInboundMessageSize(maxMessageBytes);
  }

  /**
   * Returns the TCP port the standalone server listens on (the chosen one for port 0).
   *
   * @throws IllegalStateException before {@link #start()}, or when it has no TCP listener
   */
  public int port() {
    if (localPort < 0) {
      throw new IllegalStateException("the adapter is not started or has no TCP listener");
    }
    return localPort;
  }

  /** Returns the Unix domain socket path, when one was configured. */
  public Optional<Path> unixSocket() {
    return Optional.ofNullable(socket).map(UnixSocket::path);
  }

  /**
   * Stops: readiness and health turn not serving, new calls are refused, calls in flight finish
   * within the grace period, then the rest are cancelled. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    settings.accepting().set(false);
    servers.forEach(Server::shutdown);
    long deadline = System.nanoTime() + gracePeriod.toNanos();
    for (Server s : servers) {
      try {
        if (!s.awaitTermination(Math.max(0, deadline - System.nanoTime()),
            TimeUnit.NANOSECONDS)) {
          log.warn("gRPC calls still running after the grace period of {} ms: cancelled",
              gracePeriod.toMillis());
          s.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        s.shutdownNow();
      }
    }
    if (socket != null) {
      socket.release();
    }
  }

  private static String version() {
    try (InputStream in = GrpcAdapter.class.getResourceAsStream(
        "/dev/modserv/grpc/internal/version.properties")) {
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

  /** Options of a {@link GrpcAdapter}; each may be set once. */
  public static final class Builder {
    private final ModelServer server;
    private int port = 8001;
    private boolean portSet;
    private String host = "127.0.0.1";
    private boolean hostSet;
    private @Nullable Path unixSocket;
    private @Nullable String apiKey;
    private @Nullable Path modelRoot;
    private Duration gracePeriod = Duration.ofSeconds(30);
    private boolean graceSet;
    private int maxMessageBytes = 16 << 20;
    private boolean maxMessageSet;
    private final List<String> requiredModels = new ArrayList<>();
    private boolean strictReadiness = true;
    private boolean strictReadinessSet;

    private Builder(ModelServer server) {
      this.server = server;
    }

    private static void once(boolean set, String what) {
      if (set) {
        throw new IllegalStateException(what + " was already set");
      }
    }

    /**
     * The TCP port, 0 for an ephemeral one, -1 for no TCP listener (then give a {@link
     * #unixSocket(Path)}); defaults to 8001, Triton's gRPC port.
     */
    public Builder port(int port) {
      once(portSet, "port");
      if (port < -1 || port > 65535) {
        throw new IllegalArgumentException("port must be in -1..65535: " + port);
      }
      this.port = port;
      this.portSet = true;
      return this;
    }

    /** The address the TCP server binds; defaults to {@code 127.0.0.1} (loopback only). */
    public Builder host(String host) {
      once(hostSet, "host");
      if (host.isBlank()) {
        throw new IllegalArgumentException("host must not be blank");
      }
      this.host = host;
      this.hostSet = true;
      return this;
    }

    /** Also listen on this Unix domain socket path (Linux); defaults to none. */
    public Builder unixSocket(Path path) {
      once(unixSocket != null, "unixSocket");
      this.unixSocket = Objects.requireNonNull(path, "path");
      return this;
    }

    /**
     * Requires {@code authorization: Bearer <key>} metadata on every call except {@code
     * ServerLive}, {@code ServerReady} and the health service; defaults to no key.
     */
    public Builder apiKey(String key) {
      once(apiKey != null, "apiKey");
      if (key.isEmpty()) {
        throw new IllegalArgumentException("apiKey must not be empty");
      }
      this.apiKey = key;
      return this;
    }

    /**
     * Turns the repository RPCs on (index, load, unload): models load from {@code
     * <root>/<model>/<version>/} only, which must be an existing directory. Defaults to off (they
     * answer UNIMPLEMENTED).
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

    /** How long {@link #close()} waits for calls in flight; defaults to 30 seconds. */
    public Builder gracePeriod(Duration grace) {
      once(graceSet, "gracePeriod");
      if (grace.isNegative()) {
        throw new IllegalArgumentException("gracePeriod must be >= 0: " + grace);
      }
      this.gracePeriod = grace;
      this.graceSet = true;
      return this;
    }

    /** The largest request message taken; larger ones get RESOURCE_EXHAUSTED. Defaults to 16 MiB. */
    public Builder maxMessageBytes(int bytes) {
      once(maxMessageSet, "maxMessageBytes");
      if (bytes < 1) {
        throw new IllegalArgumentException("maxMessageBytes must be >= 1: " + bytes);
      }
      this.maxMessageBytes = bytes;
      this.maxMessageSet = true;
      return this;
    }

    /**
     * Readiness waits until {@code name} can be served (a READY version, or one that loads on
     * demand), by the same rule as the HTTP adapter's ({@link Readiness}); may be called for many
     * models.
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
     * Whether a required model whose load FAILED keeps readiness false; defaults to true (as
     * Triton's strict readiness). With false, such a model is left out of readiness.
     */
    public Builder strictReadiness(boolean strict) {
      once(strictReadinessSet, "strictReadiness");
      this.strictReadiness = strict;
      this.strictReadinessSet = true;
      return this;
    }

    /** Builds the adapter; {@link GrpcAdapter#start()} starts it. */
    public GrpcAdapter build() {
      if (port < 0 && unixSocket == null) {
        throw new IllegalStateException("port -1 (no TCP) needs a unixSocket to listen on");
      }
      return new GrpcAdapter(this);
    }
  }
}
