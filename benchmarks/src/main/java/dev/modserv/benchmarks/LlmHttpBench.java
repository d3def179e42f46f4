package dev.modserv.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.api.ChatMessage;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationStream;
import dev.modserv.core.ModelServer;
import dev.modserv.http.HttpAdapter;
import dev.modserv.llama.LlamaBackend;
import dev.modserv.spi.ModelSource;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Streaming generation through {@code POST /v1/chat/completions} (SSE) side by side with {@link
 * ModelServer#generate} called in this process, on the same generated GGUF (384 wide, 6 layers,
 * {@link LlamaBenchmark#writeModel}) served by one worker with 4 sequences. Two HTTP clients: a
 * kept-alive socket that reads the chunked answer itself (the instrument with the least of its
 * own in the way) and the JDK's {@code HttpClient} (which hands the bytes between its threads in
 * both directions, and so adds time of its own). First a warm-up of short generations on every
 * side, so that the measured rounds run compiled code; then, for 1 and 4 concurrent clients
 * released together, each round runs one generation per client on each side, the side that goes
 * first rotating by round. Per generation: the time to the first token that carries text, and the
 * decode rate after it, {@code (tokens - 1) / (end - first)}; the medians over all generations of
 * a side are printed, and for the time added to the first token a 90% bootstrap interval over the
 * rounds (at 4 clients one generation's time to first token varies by ±10 ms with the way
 * llama.cpp happens to group the four prompts, so a run of 40 rounds moves its median by a
 * millisecond or more).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *     dev.modserv.benchmarks.LlmHttpBench [rounds=40] [tokens=64] [warm-ups=3000] [clients=1,4]
 * </pre>
 */
public final class LlmHttpBench {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final int IN_PROCESS = 0;
  private static final int SOCKET = 1;
  private static final int JDK_CLIENT = 2;
  private static final String[] SIDES = {"in process", "HTTP socket", "HTTP JDK client"};

  private LlmHttpBench() {}

  /** One generation's figures, in nanoseconds. */
  private record Sample(long ttft, long decode) {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 40;
    int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int warmups = args.length > 2 ? Integer.parseInt(args[2]) : 3000;
    int[] clientCounts = java.util.Arrays.stream((args.length > 3 ? args[3] : "1,4").split(","))
        .mapToInt(Integer::parseInt).toArray();
    Path model = LlamaBenchmark.writeModel();
    ModelServer server = ModelServer.builder().backend(new LlamaBackend())
        .discoverBackends(false).build();
    server.registry().load("bench", 1, new ModelSource(model, Map.of("context-size", "2048",
        "threads", "1", "parallel", "4"))).join();
    HttpAdapter http = HttpAdapter.builder(server).port(0).host("127.0.0.1").build();
    http.start();
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI uri = URI.create("http://127.0.0.1:" + http.port() + "/v1/chat/completions");
    String body = "{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":"
        + JSON.writeValueAsString(LlamaBenchmark.PROMPT) + "}],\"max_tokens\":" + tokens
        + ",\"temperature\":0,\"seed\":1,\"stream\":true}";
    GenerationRequest request = GenerationRequest.builder("bench")
        .messages(List.of(ChatMessage.user(LlamaBenchmark.PROMPT))).maxTokens(tokens)
        .temperature(0).seed(1).build();

    System.out.printf(Locale.ROOT, "LlmHttpBench: %d rounds, %d tokens per generation, %d CPUs, %s%n",
        rounds, tokens, Runtime.getRuntime().availableProcessors(), Runtime.version());
    // The request path runs interpreted until the JIT has seen it thousands of times; a served
    // model sees it that often in seconds, so the measured rounds start from compiled code.
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", http.port());
    String shortBody = body.replace("\"max_tokens\":" + tokens, "\"max_tokens\":2");
    GenerationRequest shortRequest = GenerationRequest.builder("bench")
        .messages(List.of(ChatMessage.user(LlamaBenchmark.PROMPT))).maxTokens(2)
        .temperature(0).seed(1).build();
    long warmStart = System.nanoTime();
    try (SocketClient socket = new SocketClient(address, shortBody)) {
      for (int i = 0; i < warmups; i++) {
        inProcess(server, shortRequest);
        socket.stream();
        overJdkClient(client, uri, shortBody);
      }
    }
    System.out.printf(Locale.ROOT, "warm-up: %d short generations per side in %.1f s%n", warmups,
        (System.nanoTime() - warmStart) / 1e9);
    System.out.println("clients  side              ttft p50 ms  decode p50 tok/s  generations");
    for (int clients : clientCounts) {
      List<List<Sample>> bySide = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
      // Each side's generations round by round, for the bootstrap interval.
      List<List<List<Sample>>> byRound =
          List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
      SocketClient[] sockets = new SocketClient[clients];
      for (int c = 0; c < clients; c++) {
        sockets[c] = new SocketClient(address, body);
      }
      // Client threads made once and released together each round: a thread start costs up to a
      // millisecond here, and starts in a row would spread the arrivals over several.
      ExecutorService pool = Executors.newFixedThreadPool(clients);
      int warmup = 2;
      for (int r = -warmup; r < rounds; r++) {
        for (int i = 0; i < SIDES.length; i++) {
          int side = Math.floorMod(r + i, SIDES.length);   // each side goes first in turn
          List<Sample> samples = new ArrayList<>();
          CountDownLatch ready = new CountDownLatch(clients);
          CountDownLatch go = new CountDownLatch(1);
          CountDownLatch done = new CountDownLatch(clients);
          List<Throwable> failures = new ArrayList<>();
          for (int c = 0; c < clients; c++) {
            SocketClient socket = sockets[c];
            pool.execute(() -> {
              try {
                ready.countDown();
                go.await();
                Sample s = switch (side) {
                  case IN_PROCESS -> inProcess(server, request);
                  case SOCKET -> socket.stream();
                  default -> overJdkClient(client, uri, body);
                };
                synchronized (samples) {
                  samples.add(s);
                }
              } catch (Throwable t) {
                synchronized (failures) {
                  failures.add(t);
                }
              } finally {
                done.countDown();
              }
            });
          }
          ready.await();
          go.countDown();
          done.await();
          if (!failures.isEmpty()) {
            throw new IllegalStateException("a generation failed", failures.get(0));
          }
          if (r >= 0) {
            bySide.get(side).addAll(samples);
            byRound.get(side).add(samples);
          }
        }
      }
      pool.shutdown();
      for (SocketClient socket : sockets) {
        socket.close();
      }
      Sample d = medians(bySide.get(IN_PROCESS));
      for (int side = 0; side < SIDES.length; side++) {
        print(clients, SIDES[side], medians(bySide.get(side)), tokens, bySide.get(side).size());
      }
      for (int side : new int[] {SOCKET, JDK_CLIENT}) {
        Sample s = medians(bySide.get(side));
        double[] interval = addedTtftInterval(byRound.get(IN_PROCESS), byRound.get(side));
        System.out.printf(Locale.ROOT,
            "%7d  %s: added ttft %.3f ms (90%% interval %.2f to %.2f ms); HTTP / in-process"
                + " tokens/s %.1f%%%n",
            clients, SIDES[side], (s.ttft() - d.ttft()) / 1e6, interval[0], interval[1],
            100.0 * d.decode() / s.decode());
      }
    }
    http.close();
    server.close();
    System.exit(0);
  }

  private static Sample inProcess(ModelServer server, GenerationRequest request) {
    long start = System.nanoTime();
    long first = 0;
    try (GenerationStream s = server.generate(request)) {
      for (Iterator<GenerationChunk> it = s.iterator(); it.hasNext(); ) {
        GenerationChunk c = it.next();
        if (first == 0 && !c.text().isEmpty()) {
          first = System.nanoTime();
        }
      }
    }
    return new Sample(first - start, System.nanoTime() - first);
  }

  private static Sample overJdkClient(HttpClient client, URI uri, String body)
      throws Exception {
    long start = System.nanoTime();
    HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(uri)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("status " + r.statusCode());
    }
    long first = 0;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(),
        StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.equals("data: [DONE]")) {
          break;
        }
        if (first == 0 && line.startsWith("data: ") && carriesText(line.substring(6))) {
          first = System.nanoTime();
        }
      }
    }
    return new Sample(first - start, System.nanoTime() - first);
  }

  private static boolean carriesText(String json) throws IOException {
    JsonNode delta = JSON.readTree(json).path("choices").path(0).path("delta").path("content");
    return !delta.asText("").isEmpty();
  }

  /**
   * An HTTP/1.1 client on one kept-alive socket that writes the request in one write and reads
   * the chunked SSE answer itself: the measuring instrument with the least of its own in the way
   * (the JDK's client hands the bytes between threads on both directions).
   */
  private static final class SocketClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] request;

    SocketClient(InetSocketAddress address, String body) throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(address);
      in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
      out = socket.getOutputStream();
      byte[] json = body.getBytes(StandardCharsets.UTF_8);
      byte[] head = ("POST /v1/chat/completions HTTP/1.1\r\nHost: " + address.getHostString()
          + ":" + address.getPort() + "\r\nContent-Type: application/json\r\n"
          + "Accept: text/event-stream\r\nContent-Length: " + json.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII);
      request = new byte[head.length + json.length];
      System.arraycopy(head, 0, request, 0, head.length);
      System.arraycopy(json, 0, request, head.length, json.length);
    }

    Sample stream() throws IOException {
      long start = System.nanoTime();
      out.write(request);
      out.flush();
      String status = line();
      if (!status.startsWith("HTTP/1.1 200")) {
        throw new IllegalStateException("answer: " + status);
      }
      boolean chunked = false;
      for (String h; !(h = line()).isEmpty(); ) {
        chunked |= h.toLowerCase(Locale.ROOT).equals("transfer-encoding: chunked");
      }
      if (!chunked) {
        throw new IllegalStateException("expected a chunked answer");
      }
      long first = 0;
      StringBuilder events = new StringBuilder();
      while (true) {
        int size = Integer.parseInt(line().trim(), 16);
        if (size == 0) {
          line();                                     // the empty trailer
          break;
        }
        events.append(new String(in.readNBytes(size), StandardCharsets.UTF_8));
        // Events first: the CRLF that ends a chunk's data may come only with the next chunk.
        for (int end; (end = events.indexOf("\n\n")) >= 0; ) {
          String event = events.substring(0, end);
          events.delete(0, end + 2);
          if (first == 0 && event.startsWith("data: ") && !event.equals("data: [DONE]")
              && carriesText(event.substring(6))) {
            first = System.nanoTime();
          }
        }
        line();                                       // the CRLF after the chunk's data
      }
      return new Sample(first - start, System.nanoTime() - first);
    }

    private String line() throws IOException {
      return HttpLines.read(in);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /**
   * The 5th and 95th percentiles, in milliseconds, of the time {@code side} adds to the median time
   * to first token, over 2,000 resamplings of the rounds (the same rounds for both sides, since a
   * round runs them one right after the other).
   */
  private static double[] addedTtftInterval(List<List<Sample>> inProcess,
      List<List<Sample>> side) {
    java.util.Random random = new java.util.Random(1);
    int n = inProcess.size();
    double[] added = new double[2000];
    for (int i = 0; i < added.length; i++) {
      List<Sample> a = new ArrayList<>();
      List<Sample> b = new ArrayList<>();
      for (int k = 0; k < n; k++) {
        int round = random.nextInt(n);
        a.addAll(inProcess.get(round));
        b.addAll(side.get(round));
      }
      added[i] = (medians(b).ttft() - medians(a).ttft()) / 1e6;
    }
    java.util.Arrays.sort(added);
    return new double[] {added[added.length / 20], added[added.length * 19 / 20]};
  }

  /** Median time to first token, and the median decode time (as a sample of the same shape). */
  private static Sample medians(List<Sample> samples) {
    long[] ttft = samples.stream().mapToLong(Sample::ttft).sorted().toArray();
    long[] decode = samples.stream().mapToLong(Sample::decode).sorted().toArray();
    return new Sample(ttft[ttft.length / 2], decode[decode.length / 2]);
  }

  private static void print(int clients, String side, Sample s, int tokens, int n) {
    System.out.printf(Locale.ROOT, "%7d  %-16s  %11.3f  %16.1f  %11d%n", clients, side,
        s.ttft() / 1e6, (tokens - 1) / (s.decode() / 1e9), n);
  }
}
