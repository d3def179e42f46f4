package dev.modserv.server.internal;

import dev.modserv.core.ModelServer;
import dev.modserv.http.HttpAdapter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code modserv serve}. Every option can also come from an environment variable named after it
 * ({@code --poll-interval} from {@code MODSERV_POLL_INTERVAL}); the command line wins.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {"Serves a model repository folder and model files given with --model (or, "
        + "without either, the default embedding model) over HTTP.", "Each option can also be set with an environment variable: "
        + "--poll-interval with MODSERV_POLL_INTERVAL, and so on."})
public final class ServeCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  @Option(names = "--model-repository", paramLabel = "DIR", description = "Serve the models in "
      + "DIR/<model>/<version>/ (with an optional DIR/<model>/model.yaml). Default: none, which "
      + "serves the default model all-minilm-l6-v2.")
  @Nullable Path repository;

  @Option(names = "--model", paramLabel = "[NAME=]PATH", description = "Serve this model file "
      + "(a .gguf, an .onnx) or folder as it is, as version 1 of NAME (default: the file's name "
      + "less its extension). Repeatable; works with or without --model-repository.")
  List<String> models = List.of();

  @Option(names = "--host", paramLabel = "ADDR", defaultValue = "0.0.0.0",
      description = "Address to listen on. Default: ${DEFAULT-VALUE} (every interface).")
  String host = "0.0.0.0";

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "11434",
      description = "TCP port; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  int port = 11434;

  @Option(names = "--socket", paramLabel = "PATH",
      description = "Also listen on this Unix domain socket. Default: none.")
  @Nullable Path socket;

  @Option(names = "--api-key-file", paramLabel = "FILE", description = "Require "
      + "'Authorization: Bearer <key>' with the key in FILE (health probes stay open). "
      + "Default: no key.")
  @Nullable Path apiKeyFile;

  @Option(names = "--poll-interval", paramLabel = "DURATION", defaultValue = "0s",
      converter = DurationConverter.class, description = "Poll the repository for new, removed "
          + "and changed models this often (e.g. 5s). Default: 0s, no polling.")
  Duration pollInterval = Duration.ZERO;

  @Option(names = "--cache-dir", paramLabel = "DIR", description = "Where the default model is "
      + "copied on first start. Default: $XDG_CACHE_HOME/modserv, else ~/.cache/modserv.")
  @Nullable Path cacheDir;

  @Option(names = "--progress-threshold", paramLabel = "SIZE", defaultValue = "64MiB",
      converter = SizeConverter.class, description = "Show reading progress for model "
          + "artifacts from this size on. Default: ${DEFAULT-VALUE}.")
  long progressThreshold = 64L << 20;

  @Option(names = "--max-loaded-memory", paramLabel = "SIZE", converter = SizeConverter.class,
      description = "Memory budget of the loaded models (e.g. 8GiB); idle ones unload to make "
          + "room. Default: no budget.")
  long maxLoadedBytes = -1;

  @Option(names = "--response-cache-size", paramLabel = "SIZE", defaultValue = "64MiB",
      converter = SizeConverter.class, description = "Bound of the response cache, shared by "
          + "the models whose model.yaml sets 'response-cache: true'; 0 turns it off. "
          + "Default: ${DEFAULT-VALUE}.")
  long responseCacheBytes = 64L << 20;

  @Option(names = "--embedding-cache-size", paramLabel = "SIZE", converter = SizeConverter.class,
      description = "Bound of the embedding cache of all models together, for models whose "
          + "model.yaml says embedding-cache: true. Default: 64MiB.")
  long embeddingCacheBytes = ModelServer.DEFAULT_EMBEDDING_CACHE_BYTES;

  @Option(names = "--grace-period", paramLabel = "DURATION", defaultValue = "30s",
      converter = DurationConverter.class, description = "On shutdown, how long requests in "
          + "flight may take to finish. Default: ${DEFAULT-VALUE}.")
  Duration gracePeriod = Duration.ofSeconds(30);

  @Option(names = "--selector-spin", paramLabel = "DURATION", defaultValue = "50us",
      converter = DurationConverter.class, description = "How long an HTTP selector thread "
          + "polls for the next request before it sleeps, after a short wait: lower latency over "
          + "a few connections, for up to this much CPU per wait; 0s turns polling off. At most "
          + "10ms. Default: ${DEFAULT-VALUE}.")
  Duration selectorSpin = ServeOptions.DEFAULT_SELECTOR_SPIN;

  @Option(names = "--selectors", paramLabel = "N", description = "Selector threads of each HTTP "
      + "listener, which read requests, run their model calls in batches and write the answers: "
      + "more use more cores under many busy connections. 1 to "
      + HttpAdapter.MAX_SELECTORS + ". Default: half the cores, at least 1.")
  @Nullable Integer selectors;

  @Option(names = "--request-timeout", paramLabel = "DURATION",
      converter = DurationConverter.class, description = "Deadline of each model call; a call "
          + "past it gets 504. Default: none.")
  @Nullable Duration requestTimeout;

  @Option(names = "--max-body-size", paramLabel = "SIZE", converter = SizeConverter.class,
      description = "Largest request body; larger ones get 413. Default: 16MiB.")
  long maxBodyBytes = -1;

  @Option(names = "--cors-origins", paramLabel = "ORIGIN", split = ",", description = "Origins "
      + "allowed cross-origin requests, comma-separated ('*' for any). Default: none.")
  List<String> corsOrigins = List.of();

  @Option(names = "--strict-readiness", negatable = true, arity = "0..1", defaultValue = "true",
      fallbackValue = "true", description = "/ready stays 503 while a model required for "
          + "readiness failed to load (as Triton's strict readiness); --no-strict-readiness "
          + "(or --strict-readiness=false) leaves such models out. Default: ${DEFAULT-VALUE}.")
  boolean strictReadiness = true;

  @Option(names = "--grpc-port", paramLabel = "PORT", description = "Also serve the Open "
      + "Inference Protocol over gRPC on this port (Triton's is 8001; 0 picks a free one). "
      + "Default: no gRPC.")
  @Nullable Integer grpcPort;

  @Option(names = "--grpc-socket", paramLabel = "PATH", description = "Also serve gRPC on this "
      + "Unix domain socket (Linux). Default: none.")
  @Nullable Path grpcSocket;

  @Option(names = "--fit-catalog", paramLabel = "FILE", description = "Also rate the models "
      + "in this YAML catalog in the node fit report (/api/v1/models), models this node does not"
      + " hold (docs/node-fit.md). Default: none.")
  @Nullable Path fitCatalog;

  @Option(names = "--fit-memory", paramLabel = "SIZE", converter = SizeConverter.class,
      description = "Rate models in the node fit report against this much memory (e.g. 64GiB) "
          + "instead of the memory available now. Default: what is available.")
  long fitMemory = -1;

  @Option(names = "--fit-max-context", paramLabel = "TOKENS", description = "Size context "
      + "caches in the node fit report for at most this many tokens. Default: each model's own.")
  int fitMaxContext;

  @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
      description = "trace, debug, info, warn or error. Default: ${DEFAULT-VALUE}.")
  String logLevel = "info";

  @Option(names = "--log-format", paramLabel = "FORMAT", defaultValue = "text",
      description = "text, or json: one JSON object per line, with the request id, trace id,"
          + " model and version where known. Default: ${DEFAULT-VALUE}.")
  String logFormat = "text";

  @Option(names = "--access-log", negatable = true, arity = "0..1", defaultValue = "false",
      fallbackValue = "true", description = "Log every answered request (asynchronously; probes"
          + " and scrapes at debug). Default: ${DEFAULT-VALUE}.")
  boolean accessLog;

  @Option(names = "--otlp-endpoint", paramLabel = "URL", description = "Export traces over"
      + " OTLP/HTTP to this collector URL (http://HOST:4318/v1/traces); an incoming traceparent is"
      + " continued. Default: none (no tracing).")
  @Nullable String otlpEndpoint;

  private final Consumer<StandaloneServer> onStarted;
  private Runnable beforeStart = () -> { };

  /** @param onStarted called with the running server (a signal handler, a test) */
  public ServeCommand(Consumer<StandaloneServer> onStarted) {
    this.onStarted = onStarted;
  }

  /** Runs {@code r} once the options are read, before the server starts (signal handlers). */
  public void beforeStart(Runnable r) {
    this.beforeStart = r;
  }

  /** Returns the command line for {@code serve}, reading defaults from {@code env}. */
  public static CommandLine commandLine(ServeCommand command, Map<String, String> env) {
    CommandLine cl = new CommandLine(command);
    cl.setDefaultValueProvider(new EnvDefaults(env));
    return cl;
  }

  /** Returns the environment variable of an option: {@code --poll-interval} → MODSERV_POLL_INTERVAL. */
  public static String envName(String longOption) {
    return "MODSERV_" + longOption.replaceFirst("^--", "").replace('-', '_')
        .toUpperCase(Locale.ROOT);
  }

  /** Returns the options as parsed. */
  public ServeOptions options(Map<String, String> env) {
    Path cache = cacheDir;
    if (cache == null) {
      String xdg = env.get("XDG_CACHE_HOME");
      cache = xdg != null && !xdg.isBlank() ? Path.of(xdg, "modserv")
          : Path.of(System.getProperty("user.home"), ".cache", "modserv");
    }
    return new ServeOptions(repository, host, port, socket, apiKeyFile, pollInterval, cache,
        progressThreshold, maxLoadedBytes, gracePeriod, requestTimeout, maxBodyBytes,
        corsOrigins.stream().map(String::strip).filter(s -> !s.isEmpty()).toList(),
        responseCacheBytes, embeddingCacheBytes, strictReadiness,
        grpc(), models.stream().map(ServeOptions.DirectModel::parse).toList(), fit(),
        selectorSpin(), selectors());
  }

  /** The selector count, checked as the adapter checks it; 0 for the adapter's default. */
  private int selectors() {
    if (selectors == null) {
      return 0;
    }
    if (selectors < 1 || selectors > HttpAdapter.MAX_SELECTORS) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--selectors must be in 1.." + HttpAdapter.MAX_SELECTORS + ": " + selectors);
    }
    return selectors;
  }

  /** The selector spin, checked as the adapter checks it. */
  private Duration selectorSpin() {
    if (selectorSpin.isNegative() || selectorSpin.compareTo(Duration.ofMillis(10)) > 0) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--selector-spin must be in 0..10ms: " + selectorSpin);
    }
    return selectorSpin;
  }

  /** The node fit report's options, checked. */
  private ServeOptions.Fit fit() {
    if (fitMemory == 0 || fitMemory < -1) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--fit-memory must be at least 1 byte: " + fitMemory);
    }
    if (fitMaxContext < 0) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--fit-max-context must be at least 1 token: " + fitMaxContext);
    }
    return new ServeOptions.Fit(fitCatalog, fitMemory, fitMaxContext);
  }

  /** gRPC is served when a port or a socket is given; a socket alone has no TCP listener. */
  private ServeOptions.@Nullable Grpc grpc() {
    if (grpcPort == null && grpcSocket == null) {
      return null;
    }
    int p = grpcPort == null ? -1 : grpcPort;
    if (grpcPort != null && (p < 0 || p > 65535)) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--grpc-port must be in 0..65535: " + p);
    }
    return new ServeOptions.Grpc(p, grpcSocket);
  }

  /**
   * Serves until stopped. Exits 0 after a clean stop, 1 when the shutdown's grace period ran out
   * and cut requests, and 2 when the server could not start: one line on stderr names the problem
   * (the stack trace only at debug level).
   */
  @Override
  public Integer call() throws Exception {
    ServeOptions options;
    try {
      options = options(System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("modserv: cannot start: " + oneLine(e));
      return STARTUP_FAILED;
    }
    Telemetry telemetry;
    try {
      telemetry = otlpEndpoint == null || otlpEndpoint.isBlank() ? Telemetry.OFF
          : Telemetry.otlp(otlpEndpoint.strip());
    } catch (IllegalArgumentException e) {
      System.err.println("modserv: cannot start: " + oneLine(e));
      return STARTUP_FAILED;
    }
    beforeStart.run();
    StandaloneServer started;
    try {
      started = StandaloneServer.start(options, telemetry);
    } catch (RuntimeException e) {
      telemetry.close();
      log.debug("the start failed", e);
      System.err.println("modserv: cannot start: " + oneLine(e));
      return STARTUP_FAILED;
    }
    try (telemetry; StandaloneServer server = started) {
      onStarted.accept(server);
      server.awaitClose();
    }
    return started.requestsCut() > 0 ? 1 : 0;
  }

  /** The exit status of a start that failed (a bad option, repository, key file or port). */
  public static final int STARTUP_FAILED = 2;

  /** The failure's message and its cause's, on one line. */
  public static String oneLine(Throwable failure) {
    Throwable e = failure instanceof java.io.UncheckedIOException && failure.getCause() != null
        ? failure.getCause() : failure;
    // picocli names the converter's exception in brackets; its message is what matters.
    String message = String.valueOf(e.getMessage())
        .replaceAll(" \\((?:[a-z]+\\.)+[A-Za-z]*Exception: (.*)\\)$", ": $1");
    Throwable cause = e.getCause();
    if (cause != null && cause.getMessage() != null && !message.contains(cause.getMessage())) {
      message += ": " + cause.getMessage();
    }
    return message.replaceAll("\\s*[\\r\\n]+\\s*", "; ");
  }

  /** Returns the requested log level. */
  public String logLevel() {
    return logLevel;
  }

  /** Environment variables as defaults. */
  static final class EnvDefaults implements CommandLine.IDefaultValueProvider {
    private final Map<String, String> env;

    EnvDefaults(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public @Nullable String defaultValue(ArgSpec argSpec) {
      if (argSpec instanceof OptionSpec o) {
        String value = env.get(envName(o.longestName()));
        if (value != null && !value.isBlank()) {
          return value;
        }
      }
      return argSpec.defaultValue();
    }
  }

  /** Reads durations for picocli. */
  public static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return Units.duration(value);
    }
  }

  /** Reads sizes for picocli. */
  public static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      return Units.bytes(value);
    }
  }

  @Override
  public String toString() {
    return "serve " + Arrays.asList(repository, host, port);
  }
}
