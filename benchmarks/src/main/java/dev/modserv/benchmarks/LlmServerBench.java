package dev.modserv.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.api.ChatMessage;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationStream;
import dev.modserv.core.ModelServer;
import dev.modserv.llama.LlamaBackend;
import dev.modserv.spi.ModelSource;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The load study an LLM server publishes, through the real standalone server started as a process
 * ({@code ./modserv serve --model-repository}) on the generated 384-wide GGUF ({@link
 * LlamaBenchmark#writeModel}), with {@code parallel: 4}, {@code threads: 1} (one core left for the
 * server's I/O and the client; alike in process) and a queue bound of 50 in its {@code
 * model.yaml}. For 1, 4, 16 and 60 closed-loop clients, each streaming chat completions ({@code
 * POST /v1/chat/completions}, SSE, a fixed prompt and {@code max_tokens}) one after the other on
 * a connection it keeps alive: success rate, time to first token and total latency (p50, p99),
 * tokens/s per client and in total. A client answered 503 counts a failure and waits the {@code
 * Retry-After} the server names, as a polite client does. At 1 client every round also runs one
 * {@link ModelServer#generate} in this process on the very file the server serves, with the same
 * options (its own worker), so the ratio of the two compares generations run side by side under
 * the same machine load (both
 * sides are warmed up alike first, with short and with full-length generations), and it prints
 * the CPU each process spent per request on either side. Then a burst of 100 requests (256 tokens
 * each, so that all arrive while the first 4 run) released together against the queue of 50: 4
 * run, 50 wait, and exactly the other 46 must be answered 503 with {@code Retry-After}; every
 * other one must complete.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *     dev.modserv.benchmarks.LlmServerBench LAUNCHER TSV [tokens=64] [warm-ups=3000] [threads=1]
 * </pre>
 */
public final class LlmServerBench {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PARALLEL = 4;
  private static final int QUEUE = 50;
  private static final int BURST = 100;
  /**
   * Tokens per burst request: enough that the first 4 still run when the last of the 100 requests
   * arrives, even on a loaded machine, so that exactly the overflow is refused.
   */
  private static final int BURST_TOKENS = 256;
  private static final int[] CLIENTS = {1, 4, 16, 60};
  /**
   * Short generations per side first: enough that the server's per-request path (HTTP parsing,
   * routing, JSON, the scheduler) is compiled by C2 before it is measured; with 200 its JIT still
   * took 3–14 ms of CPU per request during the measured rounds.
   */
  private static final int WARMUPS = 3000;
  /** Full-length generations per side after the short warm-ups. */
  private static final int FULL_WARMUPS = 100;
  /** Rounds at 1 client: each one in-process generation and one through the server. */
  private static final int SIDE_BY_SIDE_ROUNDS = 96;
  /** Decoding threads of the engine, alike on both sides (the fifth argument overrides it). */
  private static final int ENGINE_THREADS = 1;
  /** Where a chunk's text starts (the opening role event's is empty). */
  private static final String CONTENT = "\"content\":\"";
  private static final String COMPLETION_TOKENS = "\"completion_tokens\":";

  private LlmServerBench() {}

  /** One request: its status, whether it finished, and its times in nanoseconds. */
  private record Result(int status, boolean retryAfter, boolean complete, int tokens, long ttft,
      long total, long retrySeconds) {}

  public static void main(String[] args) throws Exception {
    Path launcher = Path.of(args[0]);
    Path tsv = Path.of(args[1]);
    int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 64;
    int warmups = args.length > 3 ? Integer.parseInt(args[3]) : WARMUPS;
    int threads = args.length > 4 ? Integer.parseInt(args[4]) : ENGINE_THREADS;
    Path model = LlamaBenchmark.writeModel();
    Path repository = Files.createTempDirectory("modserv-llm-server-bench-");
    Path version = Files.createDirectories(repository.resolve("bench").resolve("1"));
    Path servedFile = Files.copy(model, version.resolve("bench.gguf"));
    Files.writeString(repository.resolve("bench").resolve("model.yaml"), """
        engine-options:
          context-size: 2048
          parallel: %d
          threads: %d
        batching:
          max-queue-size: %d
        """.formatted(PARALLEL, threads, QUEUE));
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Process server = new ProcessBuilder(launcher.toString(), "serve", "--model-repository",
        repository.toString(), "--host", "127.0.0.1", "--port", Integer.toString(port),
        "--log-level", "warn")
        .redirectErrorStream(true)
        .redirectOutput(tsv.resolveSibling("llm-server.server.log").toFile()).start();
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
    byte[] body = request(address, tokens);
    ModelServer inProcess = null;
    try {
      awaitServing(address, server);
      inProcess = ModelServer.builder().backend(new LlamaBackend()).discoverBackends(false).build();
      // The very file the server serves: llama.cpp maps its weights, so both workers then read
      // the same page-cache pages. Two copies of one file sit in different physical pages, and
      // that alone moved one worker's decoding by 5-8% against the other's (LlamaWorkerPairBench).
      inProcess.registry().load("bench", 1, new ModelSource(servedFile, Map.of("context-size", "2048",
          "threads", Integer.toString(threads), "parallel", Integer.toString(PARALLEL))))
          .join();
      ProcessHandle serverJvm = server.toHandle();
      ProcessHandle benchJvm = ProcessHandle.current();
      ProcessHandle serverWorker = serverJvm.children().findFirst().orElseThrow();
      ProcessHandle inProcessWorker = benchJvm.children()
          .filter(p -> p.pid() != serverJvm.pid()).findFirst().orElseThrow();
      ThreadMXBean threadCpu = ManagementFactory.getThreadMXBean();
      GenerationRequest request = GenerationRequest.builder("bench")
          .messages(List.of(ChatMessage.user(LlamaBenchmark.PROMPT))).maxTokens(tokens)
          .temperature(0).seed(1).build();
      GenerationRequest shortRequest = GenerationRequest.builder("bench")
          .messages(List.of(ChatMessage.user(LlamaBenchmark.PROMPT))).maxTokens(2)
          .temperature(0).seed(1).build();
      byte[] shortBody = request(address, 2);
      Client single = new Client(address);   // the 1-client phase's connection
      long warmStart = System.nanoTime();
      // Short generations warm each request's path; full ones the path of each token (the JSON
      // chunk, the write, the client's read), which short ones barely run: without them the JIT
      // still compiles the server's token path during the 1-client rounds that come first.
      for (int i = 0; i < warmups; i++) {
        generate(inProcess, shortRequest);
        single.stream(shortBody);
      }
      for (int i = 0; i < FULL_WARMUPS; i++) {
        generate(inProcess, request);
        single.stream(body);
      }
      StringBuilder out = new StringBuilder(
          "clients\trequests\tsucceeded\tsuccess_pct\tttft_p50_ms\tttft_p99_ms\ttotal_p50_ms"
              + "\ttotal_p99_ms\ttok_s_per_client\ttok_s_total\n");
      System.err.printf(Locale.ROOT, "LlmServerBench: %d tokens, parallel %d, threads %d, queue"
          + " %d, %d CPUs, warm-up %d short and %d full generations per side in %.1f s%n", tokens,
          PARALLEL, threads, QUEUE, Runtime.getRuntime().availableProcessors(), warmups,
          FULL_WARMUPS,
          (System.nanoTime() - warmStart) / 1e9);
      System.out.print(out);
      System.out.flush();
      double[] ratio = new double[2];
      double[] roundRatios = new double[0];
      // CPU nanoseconds over the 1-client rounds: in process (this JVM, its worker, its thread),
      // then through the server (the server JVM, its worker, this JVM as the client, its thread).
      long[] cpu = new long[7];
      for (int clients : CLIENTS) {
        int perClient = clients == 1 ? SIDE_BY_SIDE_ROUNDS : Math.max(2, 24 / clients);
        List<List<Result>> byClient = new ArrayList<>();
        long[] clientWall = new long[clients];
        long start = System.nanoTime();
        if (clients == 1) {
          // Side by side: each round one in-process generation and one through the server, the
          // side that goes first alternating from round to round.
          List<Result> results = new ArrayList<>();
          long inProcessTokens = 0;
          roundRatios = new double[perClient];
          long inProcessNanos = 0;
          ModelServer embedded = inProcess;
          for (int r = 0; r < perClient; r++) {
            Callable<Result> direct = () -> metered(() -> generate(embedded, request), cpu, 0,
                threadCpu, benchJvm, inProcessWorker);
            Callable<Result> through = () -> metered(() -> single.stream(body), cpu, 3, threadCpu,
                serverJvm, serverWorker, benchJvm);
            Result first = (r % 2 == 0 ? direct : through).call();
            Result second = (r % 2 == 0 ? through : direct).call();
            Result inProcessResult = r % 2 == 0 ? first : second;
            Result served = r % 2 == 0 ? second : first;
            inProcessTokens += inProcessResult.tokens();
            inProcessNanos += inProcessResult.total();
            results.add(served);
            // Tokens/s through the server over tokens/s in process, this round.
            roundRatios[r] = (double) served.tokens() / served.total() * inProcessResult.total()
                / inProcessResult.tokens();
          }
          byClient.add(results);
          clientWall[0] = results.stream().mapToLong(Result::total).sum();
          ratio[0] = inProcessTokens / (inProcessNanos / 1e9);
        } else {
          ExecutorService pool = Executors.newFixedThreadPool(clients);
          CountDownLatch ready = new CountDownLatch(clients);
          CountDownLatch go = new CountDownLatch(1);
          for (int c = 0; c < clients; c++) {
            List<Result> results = new ArrayList<>();
            byClient.add(results);
            int client = c;
            pool.execute(() -> {
              ready.countDown();
              try (Client connection = new Client(address)) {
                go.await();
                long t0 = System.nanoTime();
                for (int r = 0; r < perClient; r++) {
                  Result res = connection.stream(body);
                  results.add(res);
                  if (res.status() == 503) {
                    Thread.sleep(res.retrySeconds() * 1000);
                  }
                }
                clientWall[client] = System.nanoTime() - t0;
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
          }
          ready.await();
          start = System.nanoTime();
          go.countDown();
          pool.shutdown();
          pool.awaitTermination(1, TimeUnit.HOURS);
        }
        long wall = clients == 1 ? clientWall[0] : System.nanoTime() - start;
        List<Result> all = byClient.stream().flatMap(List::stream).toList();
        List<Result> ok = all.stream().filter(Result::complete).toList();
        long allTokens = ok.stream().mapToLong(Result::tokens).sum();
        double perClientRate = 0;
        for (int c = 0; c < clients; c++) {
          perClientRate += byClient.get(c).stream().filter(Result::complete)
              .mapToLong(Result::tokens).sum() / (clientWall[c] / 1e9) / clients;
        }
        if (clients == 1) {
          ratio[1] = perClientRate;
        }
        long[] ttft = ok.stream().mapToLong(Result::ttft).sorted().toArray();
        long[] total = ok.stream().mapToLong(Result::total).sorted().toArray();
        String row = String.format(Locale.ROOT, "%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f%n",
            clients, all.size(), ok.size(), 100.0 * ok.size() / all.size(), ms(ttft, 50),
            ms(ttft, 99), ms(total, 50), ms(total, 99), perClientRate, allTokens / (wall / 1e9));
        out.append(row);
        System.out.print(row);
        System.out.flush();
      }
      Arrays.sort(roundRatios);
      String ratioLine = String.format(Locale.ROOT,
          "# 1 client, side by side: server %.1f tokens/s, in-process generate %.1f tokens/s,"
              + " server/in-process %.1f%% (per round: p10 %.1f%%, median %.1f%%, p90 %.1f%%,"
              + " %d rounds)%n", ratio[1], ratio[0], 100 * ratio[1] / ratio[0],
          100 * quantile(roundRatios, 0.1), 100 * quantile(roundRatios, 0.5),
          100 * quantile(roundRatios, 0.9), roundRatios.length);
      out.append(ratioLine);
      System.out.print(ratioLine);
      double perRound = 1e6 * SIDE_BY_SIDE_ROUNDS;
      String cpuLine = String.format(Locale.ROOT, "# 1 client, CPU per request: in process: this"
          + " JVM %.1f ms (its consuming thread %.1f ms), its worker %.1f ms; through the server:"
          + " the server JVM %.1f ms, its worker %.1f ms, this JVM as the client %.1f ms (its"
          + " thread %.1f ms)%n", cpu[0] / perRound, cpu[2] / perRound, cpu[1] / perRound,
          cpu[3] / perRound, cpu[4] / perRound, cpu[5] / perRound, cpu[6] / perRound);
      out.append(cpuLine);
      System.out.print(cpuLine);
      System.out.flush();
      single.close();
      String burstLine = burst(address, request(address, BURST_TOKENS));
      out.append(burstLine);
      System.out.print(burstLine);
      System.out.flush();
      Files.createDirectories(tsv.toAbsolutePath().getParent());
      Files.writeString(tsv, out);
    } finally {
      if (inProcess != null) {
        inProcess.close();
      }
      server.destroy();   // SIGTERM: the server drains and ends its worker
      if (!server.waitFor(60, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
      try {
        deleteTree(repository);   // the model's copy: tens of MB a run
      } catch (IOException e) {
        System.err.println("LlmServerBench: could not delete " + repository + ": " + e);
      }
    }
    System.exit(0);
  }

  private static void deleteTree(Path root) throws IOException {
    try (java.util.stream.Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** 100 streaming requests released together; the line that counts their answers. */
  private static String burst(InetSocketAddress address, byte[] body) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(BURST);
    CountDownLatch ready = new CountDownLatch(BURST);
    CountDownLatch go = new CountDownLatch(1);
    List<Result> results = new ArrayList<>();
    List<Throwable> lost = new ArrayList<>();
    for (int i = 0; i < BURST; i++) {
      pool.execute(() -> {
        ready.countDown();
        try (Client client = new Client(address)) {
          go.await();
          Result r = client.stream(body);
          synchronized (results) {
            results.add(r);
          }
        } catch (Throwable t) {
          synchronized (lost) {
            lost.add(t);
          }
        }
      });
    }
    ready.await();
    go.countDown();
    pool.shutdown();
    pool.awaitTermination(1, TimeUnit.HOURS);
    long completed = results.stream().filter(Result::complete).count();
    long refused = results.stream().filter(r -> r.status() == 503 && r.retryAfter()).count();
    long other = results.size() - completed - refused;
    int overflow = BURST - QUEUE - PARALLEL;
    return String.format(Locale.ROOT, "# burst of %d (%d tokens each) against %d running + queue"
        + " %d: %d completed, %d answered 503 with Retry-After (overflow %d: %s), %d other, %d"
        + " lost%n", BURST, BURST_TOKENS, PARALLEL,
        QUEUE, completed, refused, overflow, refused == overflow ? "exact" : "NOT exact", other,
        lost.size() + (BURST - results.size() - lost.size()));
  }

  /** A streamed chat completion of {@code tokens}, as the bytes one write sends. */
  private static byte[] request(InetSocketAddress address, int tokens) throws IOException {
    byte[] json = ("{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":"
        + JSON.writeValueAsString(LlamaBenchmark.PROMPT) + "}],\"max_tokens\":" + tokens
        + ",\"temperature\":0,\"seed\":1,\"stream\":true,"
        + "\"stream_options\":{\"include_usage\":true}}").getBytes(StandardCharsets.UTF_8);
    byte[] head = ("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort()
        + "\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: "
        + json.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] request = Arrays.copyOf(head, head.length + json.length);
    System.arraycopy(json, 0, request, head.length, json.length);
    return request;
  }

  /** Polls with one short generation until the model answers (it is READY after its warm-up). */
  private static void awaitServing(InetSocketAddress address, Process server) throws Exception {
    byte[] probe = request(address, 8);
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);  // the launcher may build
    while (System.nanoTime() < deadline) {
      if (!server.isAlive()) {
        throw new IllegalStateException("the server ended with " + server.exitValue()
            + "; see llm-server.server.log");
      }
      try (Client client = new Client(address)) {
        if (client.stream(probe).complete()) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("the server did not serve the model within 10 minutes");
  }

  private static Result generate(ModelServer server, GenerationRequest request) {
    long start = System.nanoTime();
    long first = 0;
    int tokens = 0;
    try (GenerationStream s = server.generate(request)) {
      for (Iterator<GenerationChunk> it = s.iterator(); it.hasNext(); ) {
        GenerationChunk c = it.next();
        if (first == 0 && !c.text().isEmpty()) {
          first = System.nanoTime();
        }
        tokens = c.completionTokens();
      }
    }
    long end = System.nanoTime();
    return new Result(200, false, true, tokens, first - start, end - start, 0);
  }

  /**
   * One client's connection, kept alive from one request to the next as an HTTP client's pool
   * keeps it, and read off the raw socket; opened again after the server closed it (it does after
   * a 503). Per event it does what the in-process side's consumer does per chunk: it looks whether
   * the event carries text (for the time to first token) and reads the completion tokens of the
   * usage event, without parsing the rest of the JSON.
   */
  private static final class Client implements AutoCloseable {
    private final InetSocketAddress address;
    private Socket socket = closedSocket();
    private InputStream in = InputStream.nullInputStream();
    private OutputStream out = OutputStream.nullOutputStream();

    Client(InetSocketAddress address) {
      this.address = address;
    }

    private static Socket closedSocket() {
      Socket s = new Socket();
      try {
        s.close();
      } catch (IOException impossible) {
        throw new java.io.UncheckedIOException(impossible);
      }
      return s;
    }

    private void connect() throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(address);
      in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
      out = socket.getOutputStream();
    }

    /**
     * One streamed chat completion: the time to the first event that carries text, the total
     * time, and the completion tokens of the usage event.
     */
    Result stream(byte[] request) throws IOException {
      long start = System.nanoTime();
      String statusLine;
      if (socket.isClosed()) {
        connect();
        statusLine = send(request);
      } else {
        try {
          statusLine = send(request);
        } catch (IOException closedWhileIdle) {
          close();
          connect();
          statusLine = send(request);
        }
      }
      int status = Integer.parseInt(statusLine.split(" ")[1]);
      boolean chunked = false;
      long retry = -1;
      for (String h; !(h = HttpLines.read(in)).isEmpty(); ) {
        String lower = h.toLowerCase(Locale.ROOT);
        chunked |= lower.equals("transfer-encoding: chunked");
        if (lower.startsWith("retry-after:")) {
          retry = Long.parseLong(h.substring("retry-after:".length()).trim());
        }
      }
      if (status != 200 || !chunked) {
        close();   // its body is not read: this connection is done
        return new Result(status, retry >= 0, false, 0, 0, System.nanoTime() - start,
            Math.max(retry, 0));
      }
      long first = 0;
      int tokens = 0;
      boolean done = false;
      StringBuilder events = new StringBuilder();
      while (true) {
        String sizeLine = HttpLines.read(in);
        if (sizeLine.isEmpty()) {
          // The CRLF that ends a chunk's data comes with the next chunk: events are handed over
          // as soon as their chunk's data is read, not one chunk late.
          sizeLine = HttpLines.read(in);
        }
        int size = Integer.parseInt(sizeLine.trim(), 16);
        if (size == 0) {
          HttpLines.read(in);                           // the empty trailer
          break;
        }
        events.append(new String(in.readNBytes(size), StandardCharsets.UTF_8));
        for (int end; (end = events.indexOf("\n\n")) >= 0; ) {
          String event = events.substring(0, end);
          events.delete(0, end + 2);
          if (event.equals("data: [DONE]")) {
            done = true;
            continue;
          }
          int content = event.indexOf(CONTENT);
          if (first == 0 && content >= 0 && event.charAt(content + CONTENT.length()) != '"') {
            first = System.nanoTime();
          }
          int usage = event.indexOf(COMPLETION_TOKENS);
          if (usage >= 0) {
            int from = usage + COMPLETION_TOKENS.length();
            int to = from;
            while (Character.isDigit(event.charAt(to))) {
              to++;
            }
            tokens = Integer.parseInt(event, from, to, 10);
          }
        }
      }
      long end = System.nanoTime();
      return new Result(status, false, done, tokens, first - start, end - start, 0);
    }

    private String send(byte[] request) throws IOException {
      out.write(request);
      out.flush();
      return HttpLines.read(in);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /**
   * Runs one side's request, adding to {@code cpu} from {@code at} what each of {@code processes}
   * and then this thread spent on it.
   */
  private static Result metered(Callable<Result> side, long[] cpu, int at, ThreadMXBean threads,
      ProcessHandle... processes) throws Exception {
    long[] before = new long[processes.length];
    for (int i = 0; i < processes.length; i++) {
      before[i] = cpu(processes[i]);
    }
    long thread = threads.getCurrentThreadCpuTime();
    Result r = side.call();
    for (int i = 0; i < processes.length; i++) {
      cpu[at + i] += cpu(processes[i]) - before[i];
    }
    cpu[at + processes.length] += threads.getCurrentThreadCpuTime() - thread;
    return r;
  }

  /** The CPU time {@code process} has used so far, in nanoseconds (the kernel counts ticks). */
  private static long cpu(ProcessHandle process) {
    return process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }

  /** The nearest-rank quantile {@code q} of sorted values. */
  private static double quantile(double[] sorted, double q) {
    return sorted.length == 0 ? Double.NaN
        : sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)];
  }

  /** The nearest-rank percentile {@code p} of sorted nanoseconds, in milliseconds. */
  private static double ms(long[] sorted, int p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)] / 1e6;
  }
}
