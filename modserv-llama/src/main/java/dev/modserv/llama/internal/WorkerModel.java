package dev.modserv.llama.internal;

import de.kherud.llama.LlamaModel;
import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.Usage;
import dev.modserv.spi.GenerationHandle;
import dev.modserv.spi.GenerationSink;
import dev.modserv.spi.LoadedModel;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A llama model in a child worker JVM ({@link Worker}), over a Unix domain socket ({@link
 * Frames}). A worker that dies fails the requests in flight with {@code BACKEND_ERROR} and is
 * restarted at once on a thread of its own ({@code modserv-llama-restart-<model>}); until the new
 * worker has loaded the model, requests fail fast with {@code MODEL_NOT_READY} and a retry hint,
 * so that no caller (a Jetty I/O thread, a batcher thread) ever waits on a model load. Closing asks
 * the worker to stop, then kills it: its memory goes back to the operating system.
 *
 * <p>Threads per worker: a socket reader ({@code modserv-llama-reader-<pid>}) that only decodes
 * frames, and an event thread ({@code modserv-llama-events-<pid>}) that delivers them to the
 * generations' sinks in order, so that application code never runs on the reader. The worker
 * opens two connections: commands (this side writes them, from any thread) and events (only the
 * reader reads them, so that socket stays in blocking mode: one system call a read).
 */
public final class WorkerModel implements LoadedModel {
  private static final Logger log = LoggerFactory.getLogger(WorkerModel.class);
  private static final Logger workerLog = LoggerFactory.getLogger("dev.modserv.llama.worker");
  private static final Pattern TROUBLE = Pattern.compile(
      "(?i).*(error|assert|abort|fatal|exception|failed).*");

  private final Path file;
  private final LlamaOptions options;
  private final String label;
  private final ModelMetadata metadata;
  private final long memoryBytes;
  private final AtomicInteger ids = new AtomicInteger();
  private final AtomicInteger restarts = new AtomicInteger();
  // Guarded by this: connection, closed, restarting, restartStartedNanos.
  private @Nullable Connection connection;
  private boolean closed;
  private boolean restarting;
  private long restartStartedNanos;
  /** How long the latest worker took to start and load, for the retry hint. */
  private volatile long lastStartNanos = TimeUnit.SECONDS.toNanos(1);
  private volatile @Nullable String lastRestartThread;
  private volatile int dimensions;

  public WorkerModel(Path file, LlamaOptions options) throws IOException {
    this.file = file;
    this.options = options;
    Path name = file.getFileName();
    this.label = name == null ? file.toString() : name.toString();
    // A broken file fails here, in one line, before a worker starts.
    GgufHeader header = GgufHeader.read(file);
    this.memoryBytes = header.memoryBytes(options.contextSize());
    synchronized (this) {
      this.connection = start();
    }
    this.metadata = Metadata.of(options, header, dimensions, "worker");
  }

  /** The file plus the KV cache at the configured context (see {@link GgufHeader}). */
  @Override
  public long memoryBytes() {
    return memoryBytes;
  }

  /** The worker's process id, or -1 when none runs. */
  public synchronized long workerPid() {
    Connection c = connection;
    return c == null || c.dead ? -1 : c.process.pid();
  }

  /** How many times a dead worker was restarted (started again, whether or not it loaded). */
  public int restarts() {
    return restarts.get();
  }

  /** The name of the thread that ran the latest restart, or null before any: for diagnostics. */
  public @Nullable String lastRestartThread() {
    return lastRestartThread;
  }

  @Override
  public ModelMetadata metadata() {
    return metadata;
  }

  @Override
  public int generationSlots() {
    return options.parallel();
  }

  /**
   * Returns the live worker; never waits. With none, starts a restart (unless one runs) and fails
   * with {@code MODEL_NOT_READY}, hinting how long the latest start took.
   */
  private synchronized Connection connection() {
    if (closed) {
      throw new ModelServingException(ErrorCode.SHUTTING_DOWN, "llama model '" + label
          + "' is closed");
    }
    Connection c = connection;
    if (c != null && !c.dead) {
      return c;
    }
    restartLater();
    long left = lastStartNanos - (System.nanoTime() - restartStartedNanos);
    Duration retryAfter = Duration.ofNanos(Math.max(left, TimeUnit.SECONDS.toNanos(1)));
    throw new ModelServingException(ErrorCode.MODEL_NOT_READY, "the llama worker of '" + label
        + "' is restarting after it died; retry in about " + retryAfter.toSeconds() + " s",
        null, retryAfter);
  }

  /** Starts a restart on its own thread, unless one runs or the model is closed. */
  private synchronized void restartLater() {
    if (closed || restarting) {
      return;
    }
    restarting = true;
    restartStartedNanos = System.nanoTime();
    Thread.ofPlatform().daemon().name("modserv-llama-restart-" + label).start(this::restart);
  }

  /** Runs on the restart thread: starts a worker, outside the lock, and installs it. */
  private void restart() {
    lastRestartThread = Thread.currentThread().getName();
    log.warn("starting a new llama worker for '{}' (restart {})", label,
        restarts.incrementAndGet());
    Connection c = null;
    try {
      c = start();
    } catch (IOException | RuntimeException e) {
      log.error("the llama worker of '{}' could not be restarted; the next request tries again",
          label, e);
    } finally {
      install(c);
    }
  }

  /** Ends a restart: installs its worker, or stops it when the model closed meanwhile. */
  private void install(@Nullable Connection c) {
    boolean closedMeanwhile;
    synchronized (this) {
      restarting = false;
      closedMeanwhile = closed;
      if (c != null && !closed) {
        connection = c;
      }
    }
    if (c != null && closedMeanwhile) {
      c.stop();
    }
  }

  @Override
  public GenerationHandle generate(GenerationRequest request, GenerationSink sink)
      throws IOException {
    if (options.embedding()) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT, "this model was loaded for"
          + " embeddings (embedding=true); load it without that option to generate");
    }
    Connection c = connection();
    int id = ids.incrementAndGet();
    c.generations.put(id, sink);
    Frames.Writer w = new Frames.Writer(Frames.GENERATE).i32(id);
    Frames.request(w, request);
    try {
      c.send(w);
    } catch (IOException e) {
      c.generations.remove(id);
      throw c.died(e, false);
    }
    return () -> {
      try {
        c.send(new Frames.Writer(Frames.CANCEL).i32(id));
      } catch (IOException e) {
        log.debug("cancel of a generation on a broken llama worker", e);
      }
    };
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs)
      throws Exception {
    if (!options.embedding()) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT,
          "this llama model generates text; load it with embedding=true to embed");
    }
    metadata.requireAccepts(inputs, outputs);
    Tensor text = Objects.requireNonNull(inputs.get(Capability.EMBEDDING_INPUT));
    List<String> texts = text.strings();
    Connection c = connection();
    int id = ids.incrementAndGet();
    CompletableFuture<Engine.Embedded> result = new CompletableFuture<>();
    c.embeddings.put(id, result);
    Frames.Writer w = new Frames.Writer(Frames.EMBED).i32(id).i32(texts.size());
    for (String t : texts) {
      w.str(t);
    }
    try {
      c.send(w);
    } catch (IOException e) {
      c.embeddings.remove(id);
      throw c.died(e, false);
    }
    try {
      return Metadata.outputs(result.get(), dimensions, outputs);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof Exception ex ? ex : e;
    }
  }

  @Override
  public void close() {
    Connection c;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      c = connection;
      connection = null;
    }
    if (c != null) {
      c.stop();
    }
  }

  /** Starts a worker and loads the model in it; takes as long as the load (seconds). */
  private Connection start() throws IOException {
    long startNanos = System.nanoTime();
    Path dir = Files.createTempDirectory("modserv-llama-");
    Path socket = dir.resolve("worker.sock");
    Process process = null;
    SocketChannel commands = null;
    SocketChannel events = null;
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      server.configureBlocking(false);
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("--enable-native-access=ALL-UNNAMED");
      command.add("-XX:+UseSerialGC");
      command.add("-Xmx256m");
      command.add("-Xshare:auto");
      // The worker's Java code only frames bytes: the quick compiler starts it faster.
      command.add("-XX:TieredStopAtLevel=1");
      command.add("-D" + Engine.TMPDIR_PROPERTY + "=" + dir.resolve("native"));
      command.addAll(options.workerJvmOptions());
      command.add("-cp");
      command.add(classPath());
      command.add(Worker.class.getName());
      command.add(socket.toString());
      Files.createDirectories(dir.resolve("native"));
      process = new ProcessBuilder(command).start();
      process.getOutputStream().close();
      pump(process.getInputStream(), "stdout", process.pid());
      pump(process.getErrorStream(), "stderr", process.pid());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.workerStartSeconds());
      // Two connections, in the order the worker opens them: its commands, then its events. The
      // events socket is only ever read by the reader, a platform thread: a socket that a virtual
      // thread has read or written stays non-blocking for good, and each later read on a platform
      // thread then costs three system calls (a read that fails, a poll, the read) instead of one.
      commands = accept(server, process, deadline);
      events = accept(server, process, deadline);
      Files.deleteIfExists(socket);
      Connection c = new Connection(process, commands, events, dir);
      Thread.ofPlatform().daemon().name("modserv-llama-reader-" + process.pid()).start(c::read);
      c.send(new Frames.Writer(Frames.LOAD).str(file.toAbsolutePath().toString())
          .map(options.toMap()));
      Frames.Frame first;
      try {
        first = c.loaded.get(options.workerStartSeconds(), TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new IOException("the llama worker did not load " + label + " within "
            + options.workerStartSeconds() + " s (option worker-start-seconds)");
      } catch (ExecutionException e) {
        Process p = process;
        throw new IOException("the llama worker died while loading " + label + (p.isAlive()
            ? "" : " (exit code " + p.waitFor() + ")") + "; see the dev.modserv.llama.worker log"
            + " lines", e.getCause());
      }
      if (first.type == Frames.FAILED) {
        first.i32();
        String code = first.str();
        throw new IllegalArgumentException("llama could not load " + label + ": " + first.str()
            + " (" + code + ")");
      }
      if (first.type != Frames.LOADED) {
        throw new IOException("unexpected first frame " + first.type + " from the llama worker");
      }
      dimensions = Integer.parseInt(first.map().getOrDefault("dimensions", "0"));
      lastStartNanos = System.nanoTime() - startNanos;
      log.debug("llama worker {} serves '{}'", process.pid(), label);
      process = null;
      return c;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while starting the llama worker", e);
    } finally {
      if (process != null) {
        process.destroyForcibly();
        closeQuietly(commands);
        closeQuietly(events);
        deleteTree(dir);
      }
    }
  }

  /** The worker's next connection, in blocking mode; fails if it exits or is late. */
  private static SocketChannel accept(ServerSocketChannel server, Process process, long deadline)
      throws IOException, InterruptedException {
    SocketChannel channel;
    while ((channel = server.accept()) == null) {
      if (!process.isAlive()) {
        throw new IOException("the llama worker exited with code " + process.exitValue()
            + " before connecting; see the dev.modserv.llama.worker log lines");
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("the llama worker did not connect in time (option"
            + " worker-start-seconds)");
      }
      Thread.sleep(2);
    }
    channel.configureBlocking(true);
    return channel;
  }

  private static void closeQuietly(@Nullable SocketChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      log.debug("closing a worker socket", e);
    }
  }

  private void pump(InputStream stream, String which, long pid) {
    Thread.ofPlatform().daemon().name("modserv-llama-" + which + "-" + pid).start(() -> {
      org.slf4j.MDC.put("model", label);   // a field of its own in JSON logs
      try (BufferedReader r = new BufferedReader(new InputStreamReader(stream,
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (line.isBlank()) {
            continue;
          }
          if (TROUBLE.matcher(line).matches()) {
            workerLog.warn("[{} {}] {}", label, pid, line);
          } else {
            workerLog.debug("[{} {}] {}", label, pid, line);
          }
        }
      } catch (IOException e) {
        workerLog.debug("[{} {}] {} closed: {}", label, pid, which, e.toString());
      }
    });
  }

  /** The class path of the worker: this engine, the API and the binding. */
  static String classPath() {
    List<String> parts = new ArrayList<>();
    for (Class<?> c : List.of(Worker.class, ModelServingException.class, LlamaModel.class)) {
      try {
        String p = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
        if (!parts.contains(p)) {
          parts.add(p);
        }
      } catch (URISyntaxException | RuntimeException e) {
        throw new IllegalStateException("cannot find the jar of " + c.getName() + " to start a"
            + " llama worker", e);
      }
    }
    return String.join(File.pathSeparator, parts);
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          log.debug("could not delete {}", p, e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      log.debug("could not delete {}", dir, e);
    }
  }

  /** One worker process and its two connections. */
  private final class Connection {
    final Process process;
    /** Written by any thread (requests, cancels, the stop). */
    final SocketChannel commands;
    /** Read by the reader thread only. */
    final SocketChannel events;
    /** The worker's first event: the model loaded, or why not. */
    final CompletableFuture<Frames.Frame> loaded = new CompletableFuture<>();
    final DataInputStream in;
    final OutputStream out;
    final Path dir;
    final Map<Integer, GenerationSink> generations = new ConcurrentHashMap<>();
    final Map<Integer, CompletableFuture<Engine.Embedded>> embeddings = new ConcurrentHashMap<>();
    /** Delivers events to the sinks, in the order the worker sent them, off the reader. */
    final ExecutorService delivery;
    final AtomicBoolean ended = new AtomicBoolean();
    volatile boolean dead;
    volatile boolean stopping;

    Connection(Process process, SocketChannel commands, SocketChannel events, Path dir) {
      this.process = process;
      this.delivery = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon()
          .name("modserv-llama-events-" + process.pid()).factory());
      this.commands = commands;
      this.events = events;
      this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(events),
          1 << 16));
      this.out = Channels.newOutputStream(commands);
      this.dir = dir;
    }

    synchronized void send(Frames.Writer w) throws IOException {
      if (dead) {
        throw new IOException("the llama worker is gone");
      }
      w.sendTo(out);
    }

    /**
     * Reads the worker's first frame for {@link #start}, then, once the model has loaded, its
     * frames until it goes away.
     */
    void read() {
      try {
        Frames.Frame first = Frames.read(in);
        loaded.complete(first);
        if (first.type != Frames.LOADED) {
          return;   // start() fails and ends the worker
        }
      } catch (IOException | RuntimeException e) {
        loaded.completeExceptionally(e);
        return;
      }
      IOException end = null;
      try {
        while (true) {
          Frames.Frame f = Frames.read(in);
          dispatch(f);
        }
      } catch (IOException e) {
        end = e;
      } catch (RuntimeException e) {
        end = new IOException("bad frame from the llama worker", e);
      }
      ModelServingException failure = died(end, true);
      if (!stopping) {
        log.error("llama worker {} of '{}' died: {}", process.pid(), label,
            failure.getMessage());
      }
    }

    private void dispatch(Frames.Frame f) throws IOException {
      switch (f.type) {
        case Frames.PROMPT -> {
          GenerationSink s = generations.get(f.i32());
          int n = f.i32();
          if (s != null) {
            deliver(() -> s.prompt(n));
          }
        }
        case Frames.TOKEN -> {
          GenerationSink s = generations.get(f.i32());
          String text = f.str();
          int steps = f.i32();
          if (s != null) {
            deliver(() -> s.token(text, steps));
          }
        }
        case Frames.DONE -> {
          GenerationSink s = generations.remove(f.i32());
          FinishReason reason = FinishReason.values()[f.i32()];
          Usage usage = new Usage(f.i32(), f.i32());
          if (s != null) {
            deliver(() -> s.complete(reason, usage));
          }
        }
        case Frames.FAILED -> {
          int id = f.i32();
          ModelServingException e = new ModelServingException(code(f.str()), f.str());
          GenerationSink s = generations.remove(id);
          if (s != null) {
            deliver(() -> s.fail(e));
          }
          // run() waits on the future itself: completing it runs no application code here.
          CompletableFuture<Engine.Embedded> r = embeddings.remove(id);
          if (r != null) {
            r.completeExceptionally(e);
          }
        }
        case Frames.EMBEDDING -> {
          int id = f.i32();
          int rows = f.i32();
          int dims = f.i32();
          float[][] v = new float[rows][dims];
          for (float[] row : v) {
            for (int i = 0; i < dims; i++) {
              row[i] = f.f32();
            }
          }
          long[] tokens = new long[rows];
          for (int i = 0; i < rows; i++) {
            tokens[i] = f.i32();
          }
          CompletableFuture<Engine.Embedded> r = embeddings.remove(id);
          if (r != null) {
            r.complete(new Engine.Embedded(v, tokens));
          }
        }
        default -> throw new IOException("unknown frame type " + f.type + " from the worker");
      }
    }

    /**
     * Runs a sink call on the event thread. Once the worker has ended nothing is queued any more;
     * what still comes (the failure of a request that raced the death) runs on the caller.
     */
    private void deliver(Runnable call) {
      try {
        delivery.execute(() -> {
          try {
            call.run();
          } catch (RuntimeException e) {
            log.warn("a generation sink of '{}' threw; its generation may be left open", label, e);
          }
        });
      } catch (RejectedExecutionException e) {
        call.run();
      }
    }

    private ErrorCode code(String name) {
      try {
        return ErrorCode.valueOf(name);
      } catch (IllegalArgumentException e) {
        return ErrorCode.BACKEND_ERROR;
      }
    }

    /**
     * Marks the worker dead and fails what was in flight; returns the failure. The first call also
     * closes the socket, kills the process and, unless the model is stopping, starts a restart;
     * {@code mayWait} lets the reader wait briefly for the exit code (a caller's thread does not).
     */
    ModelServingException died(@Nullable IOException cause, boolean mayWait) {
      dead = true;
      String exit = "";
      try {
        if (mayWait ? process.waitFor(200, TimeUnit.MILLISECONDS) : !process.isAlive()) {
          exit = " (exit code " + process.exitValue() + ")";
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ModelServingException failure = new ModelServingException(stopping
          ? ErrorCode.SHUTTING_DOWN : ErrorCode.BACKEND_ERROR, "the llama worker of '" + label
          + "' died" + exit + "; the request failed, and a new worker is starting", cause);
      for (Integer id : List.copyOf(generations.keySet())) {
        GenerationSink s = generations.remove(id);
        if (s != null) {
          deliver(() -> s.fail(failure));
        }
      }
      for (Integer id : List.copyOf(embeddings.keySet())) {
        CompletableFuture<Engine.Embedded> r = embeddings.remove(id);
        if (r != null) {
          r.completeExceptionally(failure);
        }
      }
      if (!ended.compareAndSet(false, true)) {
        return failure;
      }
      delivery.shutdown(); // what is queued is still delivered
      closeQuietly(commands);
      closeQuietly(events);
      if (!stopping) {
        process.destroyForcibly();
        deleteTree(dir);
        restartLater();
      }
      return failure;
    }

    /** Asks the worker to stop, waits a little, then kills it. */
    void stop() {
      stopping = true;
      try {
        send(new Frames.Writer(Frames.SHUTDOWN));
      } catch (IOException e) {
        log.debug("the llama worker was already gone", e);
      }
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          log.warn("llama worker {} did not stop within 5 s; killing it", process.pid());
          process.destroyForcibly();
          process.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
      closeQuietly(commands);
      closeQuietly(events);
      deleteTree(dir);
    }
  }
}
