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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A llama model in a child worker JVM ({@link Worker}), over a Unix domain socket ({@link
 * Frames}). A worker that dies fails the requests in flight with {@code BACKEND_ERROR}; the next
 * request starts a new one. Closing asks the worker to stop, then kills it: its memory goes back
 * to the operating system.
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
  private final AtomicInteger ids = new AtomicInteger();
  private final AtomicInteger restarts = new AtomicInteger();
  private @Nullable Connection connection;
  private boolean closed;
  private int dimensions;

  public WorkerModel(Path file, LlamaOptions options) throws IOException {
    this.file = file;
    this.options = options;
    Path name = file.getFileName();
    this.label = name == null ? file.toString() : name.toString();
    synchronized (this) {
      this.connection = start();
    }
    this.metadata = Metadata.of(options, dimensions, "worker");
  }

  /** The worker's process id, or -1 when none runs. */
  public synchronized long workerPid() {
    Connection c = connection;
    return c == null || c.dead ? -1 : c.process.pid();
  }

  /** How many times a dead worker was restarted. */
  public int restarts() {
    return restarts.get();
  }

  @Override
  public ModelMetadata metadata() {
    return metadata;
  }

  @Override
  public int generationSlots() {
    return options.parallel();
  }

  private synchronized Connection connection() throws IOException {
    if (closed) {
      throw new ModelServingException(ErrorCode.SHUTTING_DOWN, "llama model '" + label
          + "' is closed");
    }
    Connection c = connection;
    if (c == null || c.dead) {
      log.warn("starting a new llama worker for '{}' (restart {})", label,
          restarts.incrementAndGet());
      c = start();
      connection = c;
    }
    return c;
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
      throw c.died(e);
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
      throw c.died(e);
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

  /** Starts a worker and loads the model in it; the caller holds this object's lock. */
  private Connection start() throws IOException {
    Path dir = Files.createTempDirectory("modserv-llama-");
    Path socket = dir.resolve("worker.sock");
    Process process = null;
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
      SocketChannel channel;
      while ((channel = server.accept()) == null) {
        if (!process.isAlive()) {
          throw new IOException("the llama worker exited with code " + process.exitValue()
              + " before connecting; see the dev.modserv.llama.worker log lines");
        }
        if (System.nanoTime() > deadline) {
          throw new IOException("the llama worker did not connect within "
              + options.workerStartSeconds() + " s (option worker-start-seconds)");
        }
        Thread.sleep(2);
      }
      channel.configureBlocking(true);
      Files.deleteIfExists(socket);
      Connection c = new Connection(process, channel, dir);
      c.send(new Frames.Writer(Frames.LOAD).str(file.toAbsolutePath().toString())
          .map(options.toMap()));
      Process p = process;
      Thread watchdog = Thread.ofVirtual().start(() -> {
        try {
          Thread.sleep(TimeUnit.SECONDS.toMillis(options.workerStartSeconds()));
          p.destroyForcibly();
        } catch (InterruptedException e) {
          // loaded in time
        }
      });
      Frames.Frame first;
      try {
        first = Frames.read(c.in);
      } catch (IOException e) {
        throw new IOException("the llama worker died while loading " + label + (p.isAlive()
            ? "" : " (exit code " + p.waitFor() + ")") + "; see the dev.modserv.llama.worker log"
            + " lines", e);
      } finally {
        watchdog.interrupt();
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
      Thread.ofPlatform().daemon().name("modserv-llama-reader-" + process.pid())
          .start(c::read);
      log.debug("llama worker {} serves '{}'", process.pid(), label);
      process = null;
      return c;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while starting the llama worker", e);
    } finally {
      if (process != null) {
        process.destroyForcibly();
        deleteTree(dir);
      }
    }
  }

  private void pump(InputStream stream, String which, long pid) {
    Thread.ofPlatform().daemon().name("modserv-llama-" + which + "-" + pid).start(() -> {
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

  /** One worker process and its socket. */
  private final class Connection {
    final Process process;
    final SocketChannel channel;
    final DataInputStream in;
    final OutputStream out;
    final Path dir;
    final Map<Integer, GenerationSink> generations = new ConcurrentHashMap<>();
    final Map<Integer, CompletableFuture<Engine.Embedded>> embeddings = new ConcurrentHashMap<>();
    volatile boolean dead;
    volatile boolean stopping;

    Connection(Process process, SocketChannel channel, Path dir) {
      this.process = process;
      this.channel = channel;
      this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel),
          1 << 16));
      this.out = Channels.newOutputStream(channel);
      this.dir = dir;
    }

    synchronized void send(Frames.Writer w) throws IOException {
      if (dead) {
        throw new IOException("the llama worker is gone");
      }
      w.sendTo(out);
    }

    /** Reads the worker's frames until it goes away. */
    void read() {
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
      ModelServingException failure = died(end);
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
            s.prompt(n);
          }
        }
        case Frames.TOKEN -> {
          GenerationSink s = generations.get(f.i32());
          String text = f.str();
          int steps = f.i32();
          if (s != null) {
            s.token(text, steps);
          }
        }
        case Frames.DONE -> {
          GenerationSink s = generations.remove(f.i32());
          FinishReason reason = FinishReason.values()[f.i32()];
          Usage usage = new Usage(f.i32(), f.i32());
          if (s != null) {
            s.complete(reason, usage);
          }
        }
        case Frames.FAILED -> {
          int id = f.i32();
          ModelServingException e = new ModelServingException(code(f.str()), f.str());
          GenerationSink s = generations.remove(id);
          if (s != null) {
            s.fail(e);
          }
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

    private ErrorCode code(String name) {
      try {
        return ErrorCode.valueOf(name);
      } catch (IllegalArgumentException e) {
        return ErrorCode.BACKEND_ERROR;
      }
    }

    /** Marks the worker dead and fails what was in flight; returns the failure. */
    ModelServingException died(@Nullable IOException cause) {
      dead = true;
      String exit = "";
      try {
        if (process.waitFor(200, TimeUnit.MILLISECONDS)) {
          exit = " (exit code " + process.exitValue() + ")";
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ModelServingException failure = new ModelServingException(stopping
          ? ErrorCode.SHUTTING_DOWN : ErrorCode.BACKEND_ERROR, "the llama worker of '" + label
          + "' died" + exit + "; the request failed, the next one starts a new worker", cause);
      for (Integer id : List.copyOf(generations.keySet())) {
        GenerationSink s = generations.remove(id);
        if (s != null) {
          s.fail(failure);
        }
      }
      for (Integer id : List.copyOf(embeddings.keySet())) {
        CompletableFuture<Engine.Embedded> r = embeddings.remove(id);
        if (r != null) {
          r.completeExceptionally(failure);
        }
      }
      try {
        channel.close();
      } catch (IOException e) {
        log.debug("closing the worker socket", e);
      }
      if (!stopping) {
        process.destroyForcibly();
        deleteTree(dir);
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
      try {
        channel.close();
      } catch (IOException e) {
        log.debug("closing the worker socket", e);
      }
      deleteTree(dir);
    }
  }
}
