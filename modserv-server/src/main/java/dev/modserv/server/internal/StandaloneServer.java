package dev.modserv.server.internal;

import dev.modserv.api.Capability;
import dev.modserv.api.ModelMetadata;
import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelStatus;
import dev.modserv.grpc.GrpcAdapter;
import dev.modserv.http.HttpAdapter;
import dev.modserv.onnx.AllMiniLmL6V2;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running {@code modserv serve}: a {@link ModelServer}, its {@link HttpAdapter} (and {@link
 * GrpcAdapter} when asked for), and the repository (or the default model). {@link #close()} stops taking requests, lets those in flight
 * finish, then unloads the models.
 */
public final class StandaloneServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StandaloneServer.class);

  private final ModelServer server;
  private final HttpAdapter http;
  private final @Nullable GrpcAdapter grpc;
  private final @Nullable Repository repository;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch done = new CountDownLatch(1);

  private StandaloneServer(ModelServer server, HttpAdapter http, @Nullable GrpcAdapter grpc,
      @Nullable Repository repository) {
    this.server = server;
    this.http = http;
    this.grpc = grpc;
    this.repository = repository;
  }

  /** The JVM's and the process's meters: memory, GC, threads, classes, CPU, files, uptime. */
  static void bindJvmAndProcess(MeterRegistry meters) {
    new ClassLoaderMetrics().bindTo(meters);
    new JvmMemoryMetrics().bindTo(meters);
    // Its GC listener lives as long as the process, as the server does.
    @SuppressWarnings("resource")
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(meters);
    new JvmThreadMetrics().bindTo(meters);
    new ProcessorMetrics().bindTo(meters);
    new FileDescriptorMetrics().bindTo(meters);
    new UptimeMetrics().bindTo(meters);
  }

  /**
   * Starts: HTTP first (so liveness answers while models load), then the models; returns once
   * every model at start has loaded or failed.
   */
  public static StandaloneServer start(ServeOptions o) {
    return start(o, Telemetry.OFF);
  }

  /** Starts as {@link #start(ServeOptions)}, tracing into {@code telemetry}. */
  public static StandaloneServer start(ServeOptions o, Telemetry telemetry) {
    long started = System.nanoTime();
    Runtime rt = Runtime.getRuntime();
    log.info("modserv {} starting on Java {} ({} CPUs, max heap {})", version(),
        Runtime.version().feature(), rt.availableProcessors(), Units.human(rt.maxMemory()));
    Progress progress = new Progress(o.progressThreshold(), line -> log.info("{}", line));
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    bindJvmAndProcess(meters);
    ModelServer.Builder sb = ModelServer.builder().meterRegistry(meters)
        .observationRegistry(telemetry.observationRegistry())
        .responseCacheBytes(o.responseCacheBytes())
        .embeddingCacheBytes(o.embeddingCacheBytes());
    if (o.maxLoadedBytes() > 0) {
      sb.maxLoadedBytes(o.maxLoadedBytes());
    }
    if (o.requestTimeout() != null) {
      sb.defaultTimeout(o.requestTimeout());
    }
    ModelServer server = sb.build();
    Repository repository = null;
    HttpAdapter http = null;
    GrpcAdapter grpc = null;
    try {
      log.info("engines: {}", server.backends().isEmpty() ? "none found on the class path"
          : String.join(", ", server.backends()));
      server.discoveryFailures().forEach(f -> log.warn("engine discovery: {}", f));

      Set<String> required = new java.util.TreeSet<>();
      Path defaultModel = null;
      checkDirectModels(o);
      o.models().forEach(m -> required.add(m.name()));
      if (o.repository() != null) {
        repository = new Repository(o.repository(), server.registry(), progress, o.pollInterval());
        Set<String> inRepository = repository.plan();
        for (ServeOptions.DirectModel m : o.models()) {
          if (Files.isDirectory(repository.root().resolve(m.name()))) {
            throw new IllegalArgumentException("--model " + m.name() + "=" + m.path() + ": the"
                + " repository has a model folder of that name too; give another name with"
                + " --model NAME=PATH");
          }
        }
        required.addAll(inRepository);
        log.info("model repository {} ({}), {} model folder(s)", repository.root(),
            o.pollInterval().isZero() ? "not polled"
                : "polled every " + o.pollInterval().toMillis() + " ms", repository.modelCount());
      } else if (!o.models().isEmpty()) {
        log.info("no model repository given: serving {}", o.models().stream()
            .map(m -> m.name() + " from " + m.path()).toList());
      } else {
        defaultModel = AllMiniLmL6V2.extract(o.cacheDir(), progress::copy);
        required.add(AllMiniLmL6V2.NAME);
        log.info("no model repository given: serving the default model {} from {}",
            AllMiniLmL6V2.NAME, defaultModel);
      }

      HttpAdapter.Builder hb = HttpAdapter.builder(server).host(o.host()).port(o.port())
          .gracePeriod(o.gracePeriod()).selectorSpin(o.selectorSpin());
      if (o.selectors() > 0) {
        hb.selectors(o.selectors());
      }
      if (o.socket() != null) {
        hb.unixSocket(o.socket());
      }
      if (o.apiKeyFile() != null) {
        hb.apiKey(readKey(o.apiKeyFile()));
      }
      if (o.maxBodyBytes() > 0) {
        hb.maxBodyBytes(o.maxBodyBytes());
      }
      if (!o.corsOrigins().isEmpty()) {
        hb.corsOrigins(o.corsOrigins().toArray(String[]::new));
      }
      if (repository != null) {
        hb.management(repository.root());
        if (o.apiKeyFile() == null) {
          log.info("management API (POST /models, DELETE /models/..., /v2/repository/...): no API"
              + " key, so it answers only clients on this machine (loopback, the Unix socket);"
              + " set --api-key-file to manage models remotely");
        }
      }
      hb.strictReadiness(o.strictReadiness());
      required.forEach(hb::requireModel);
      fit(hb, o.fit());
      http = hb.build();
      http.start();
      String where = "http://" + hostForUrl(o.host()) + ":" + http.port();
      log.info("listening on {}{}", where,
          o.socket() == null ? "" : " and unix:" + o.socket().toAbsolutePath());
      log.info("routes: {}", String.join(", ", http.routes()));
      log.info("node fit report: GET {}/api/v1/system, {}/api/v1/models (sort=score|fit|memory|"
          + "name, use_case, min_fit, limit), {}/api/v1/models/top, {}/api/v1/models/{name}",
          where, where, where, where);

      if (o.grpc() != null) {
        grpc = startGrpc(o, server, repository, required);
      }

      if (repository != null) {
        repository.start();
      }
      o.models().forEach(m -> loadDirect(server, m, progress));
      if (defaultModel != null) {
        loadDefault(server, defaultModel, progress);
      }
      summary(server, repository, started);
      String base = "http://" + curlHost(o.host()) + ":" + http.port();
      String auth = o.apiKeyFile() == null ? ""
          : " -H \"Authorization: Bearer $(cat " + o.apiKeyFile() + ")\"";
      if (defaultModel != null) {
        log.info("try: curl -s{} {}/api/predict -H 'Content-Type: application/json' -d '{\"model\": \"{}\", \"inputs\": {\"text\": "
            + "[\"hello world\"]}}'", auth, base, AllMiniLmL6V2.NAME);
      }
      tryLines(server.registry().models(), auth, base).forEach(l -> log.info("try: {}", l));
      return new StandaloneServer(server, http, grpc, repository);
    } catch (RuntimeException | Error e) {
      if (repository != null) {
        repository.close();
      }
      if (grpc != null) {
        grpc.close();
      }
      if (http != null) {
        http.close();
      }
      server.close();
      throw e;
    }
  }

  /** The node fit report's catalog and overrides. */
  private static void fit(HttpAdapter.Builder hb, ServeOptions.Fit fit) {
    if (fit.catalog() != null) {
      List<dev.modserv.http.FitCandidate> catalog = ModelYaml.readCatalog(fit.catalog());
      hb.fitCatalog(catalog);
      log.info("node fit catalog {}: {} model(s)", fit.catalog(), catalog.size());
    }
    if (fit.memoryBytes() > 0) {
      hb.fitMemory(fit.memoryBytes());
    }
    if (fit.maxContext() > 0) {
      hb.fitMaxContext(fit.maxContext());
    }
  }

  /** gRPC with the HTTP side's key, model root and required models. */
  private static GrpcAdapter startGrpc(ServeOptions o, ModelServer server,
      @Nullable Repository repository, Set<String> required) {
    ServeOptions.Grpc g = java.util.Objects.requireNonNull(o.grpc(), "grpc");
    GrpcAdapter.Builder gb = GrpcAdapter.builder(server).host(o.host()).port(g.port())
        .gracePeriod(o.gracePeriod());
    if (g.socket() != null) {
      gb.unixSocket(g.socket());
    }
    if (o.apiKeyFile() != null) {
      gb.apiKey(readKey(o.apiKeyFile()));
    }
    if (o.maxBodyBytes() > 0) {
      gb.maxMessageBytes((int) Math.min(Integer.MAX_VALUE, o.maxBodyBytes()));
    }
    if (repository != null) {
      gb.management(repository.root());
    }
    required.forEach(gb::requireModel);
    gb.strictReadiness(o.strictReadiness());
    GrpcAdapter grpc = gb.build();
    grpc.start();
    log.info("gRPC (Open Inference Protocol) on {}{}", g.port() < 0 ? ""
        : hostForUrl(o.host()) + ":" + grpc.port(), g.socket() == null ? ""
        : (g.port() < 0 ? "" : " and ") + "unix:" + g.socket().toAbsolutePath());
    return grpc;
  }

  /** Each {@code --model} exists, and no two share a name. */
  private static void checkDirectModels(ServeOptions o) {
    Set<String> names = new java.util.HashSet<>();
    for (ServeOptions.DirectModel m : o.models()) {
      if (!Files.exists(m.path())) {
        throw new IllegalArgumentException("--model " + m.path() + ": no such file or folder");
      }
      if (!names.add(m.name())) {
        throw new IllegalArgumentException("--model " + m.path() + ": two models named '"
            + m.name() + "'; name them with --model NAME=PATH");
      }
    }
  }

  /** Loads a {@code --model} as version 1 and waits for it; a failure leaves it FAILED. */
  private static void loadDirect(ModelServer server, ServeOptions.DirectModel m,
      Progress progress) {
    long t0 = System.nanoTime();
    try {
      progress.read(m.name() + " v1", m.path());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      ModelStatus s = server.registry().load(m.name(), 1, m.path()).join();
      log.info("{} v1: READY in {} ms{}", m.name(), (System.nanoTime() - t0) / 1_000_000,
          s.warmupTime().map(w -> " (warm-up " + w.toMillis() + " ms)").orElse(""));
    } catch (RuntimeException e) {
      Throwable cause = e instanceof java.util.concurrent.CompletionException
          && e.getCause() != null ? e.getCause() : e;
      log.error("{} v1: FAILED: {}", m.name(), cause.getMessage());
    }
  }

  private static void loadDefault(ModelServer server, @Nullable Path dir, Progress progress) {
    if (dir == null) {
      throw new IllegalStateException("no default model folder");
    }
    long t0 = System.nanoTime();
    try {
      progress.read(AllMiniLmL6V2.NAME + " v1", dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      server.registry().load(AllMiniLmL6V2.NAME, 1, dir).join();
      log.info("{} v1: READY in {} ms", AllMiniLmL6V2.NAME, (System.nanoTime() - t0) / 1_000_000);
    } catch (RuntimeException e) {
      log.error("{} v1: FAILED: {}", AllMiniLmL6V2.NAME, e.getMessage());
    }
  }

  private static void summary(ModelServer server, @Nullable Repository repository,
      long started) {
    List<ModelStatus> all = server.registry().models();
    long ready = all.stream().filter(s -> s.state() == dev.modserv.core.ModelState.READY)
        .count();
    log.info("started in {} ms: {} model version(s), {} ready", (System.nanoTime() - started)
        / 1_000_000, all.size(), ready);
    for (ModelStatus s : all) {
      log.info("  {} v{} {}{}{}{}", s.name(), s.version(), s.state(),
          s.labels().isEmpty() ? "" : " " + s.labels(), s.metadata().map(m -> " [" + m.engine()
              + "] " + uses(s.name(), m)).orElse(""), s.failure().map(f -> ": " + f).orElse(""));
    }
    if (repository != null) {
      for (Map.Entry<String, List<String>> p : repository.problems().entrySet()) {
        log.info("  {} not loaded: model.yaml has {} problem(s), listed above", p.getKey(),
            p.getValue().size());
      }
    }
  }

  /** What a model can be called for, and on which routes. */
  static String uses(String name, ModelMetadata m) {
    List<String> uses = new java.util.ArrayList<>();
    if (m.has(Capability.GENERATIVE)) {
      uses.add("chat and completion (/v1/chat/completions, /v1/completions, /api/chat,"
          + " /api/generate)");
    }
    if (m.has(Capability.EMBEDDING)) {
      uses.add("embeddings (/v1/embeddings, /api/embed)");
    }
    if (m.has(Capability.TENSOR)) {
      uses.add("tensors (" + m.inputs().size() + " in/" + m.outputs().size()
          + " out: /v2/models/" + name + "/infer, /api/predict)");
    }
    return String.join("; ", uses);
  }

  /** Commands to try on the ready models: a chat, an embedding, else the model list. */
  static List<String> tryLines(List<ModelStatus> models, String auth, String base) {
    List<String> lines = new java.util.ArrayList<>();
    String json = " -H 'Content-Type: application/json' -d ";
    models.stream().filter(s -> s.state() == dev.modserv.core.ModelState.READY
        && s.metadata().map(m -> m.has(Capability.GENERATIVE)).orElse(false)).findFirst()
        .ifPresent(s -> lines.add("curl -s" + auth + " " + base + "/v1/chat/completions" + json
            + "'{\"model\": \"" + s.name() + "\", \"messages\": [{\"role\": \"user\","
            + " \"content\": \"Hello\"}]}'"));
    models.stream().filter(s -> s.state() == dev.modserv.core.ModelState.READY
        && s.metadata().map(m -> m.has(Capability.EMBEDDING)).orElse(false)).findFirst()
        .ifPresent(s -> lines.add("curl -s" + auth + " " + base + "/v1/embeddings" + json
            + "'{\"model\": \"" + s.name() + "\", \"input\": [\"hello world\"]}'"));
    lines.add("curl -s" + auth + " " + base + "/api/models");
    return lines;
  }

  private static String readKey(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("API key file " + file + " does not exist or is not a"
          + " file; put the key in it");
    }
    try {
      String key = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (key.isEmpty()) {
        throw new IllegalArgumentException("API key file " + file + " is empty; put the key in it");
      }
      return key;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the API key file " + file, e);
    }
  }

  private static String hostForUrl(String host) {
    return host.contains(":") ? "[" + host + "]" : host;
  }

  private static String curlHost(String host) {
    return switch (host) {
      case "0.0.0.0", "", "::", "[::]" -> "127.0.0.1";
      default -> hostForUrl(host);
    };
  }

  private static String version() {
    String v = StandaloneServer.class.getPackage().getImplementationVersion();
    return v == null ? "(development build)" : v;
  }

  /** Returns the TCP port. */
  public int port() {
    return http.port();
  }

  /**
   * Returns how many requests the shutdown answered 503 because its grace period ran out; 0
   * before close and after a clean one.
   */
  public int requestsCut() {
    return http.requestsCut();
  }

  /** Returns the gRPC adapter, when gRPC is served. */
  public @Nullable GrpcAdapter grpc() {
    return grpc;
  }

  /** Returns the model server. */
  public ModelServer modelServer() {
    return server;
  }

  /** Returns the repository, when one is served. */
  public @Nullable Repository repository() {
    return repository;
  }

  /** Blocks until {@link #close()} has finished. */
  public void awaitClose() throws InterruptedException {
    done.await();
  }

  /**
   * Stops polling, stops taking requests (readiness turns 503), lets requests in flight finish
   * within the grace period, then unloads every model. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      try {
        done.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    long t0 = System.nanoTime();
    log.info("stopping: no new requests; in-flight ones finish");
    try {
      if (repository != null) {
        repository.close();
      }
      // Both sides stop taking calls first, then each waits out its calls in flight.
      Thread grpcDrain = null;
      if (grpc != null) {
        GrpcAdapter g = grpc;
        grpcDrain = Thread.ofPlatform().name("modserv-grpc-drain").start(g::close);
      }
      http.close();
      if (grpcDrain != null) {
        try {
          grpcDrain.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      server.close();
      log.info("stopped in {} ms", (System.nanoTime() - t0) / 1_000_000);
    } finally {
      done.countDown();
    }
  }
}
