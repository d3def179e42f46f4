package dev.modserv.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.http.HttpAdapter;
import dev.modserv.http.internal.RoundSelector;
import dev.modserv.server.internal.Telemetry;
import dev.modserv.spi.ModelSource;
import io.micrometer.observation.ObservationRegistry;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Jetty;
import org.jspecify.annotations.Nullable;

/**
 * {@code POST /api/predict} on the tiny ONNX MLP through {@link HttpAdapter}, over TCP and over a
 * Unix domain socket, side by side with a bare Jetty core handler (same Jetty) that parses the same
 * JSON with Jackson and answers a constant of about the same size; and the same call on the Open
 * Inference Protocol v2 route, {@code POST /v2/models/mlp/infer}. The summary ends with the lines
 * issue 17 judges: the adapter against the bare handler in throughput, p50 and p99. Named in
 * {@code --targets}, {@code BARE_MODEL_TCP} and {@code BARE_MODEL_UDS} measure a bare handler that
 * runs the model itself, and the summary then adds the adapter against it: the serving layer's own
 * cost, with the model's run on both sides.
 *
 * <p>The load generator is written by hand so that both transports use the same client code: each
 * of N threads holds one blocking HTTP/1.1 keep-alive connection ({@link SocketChannel} to {@code
 * 127.0.0.1} or to a {@link UnixDomainSocketAddress}), sends a request, reads the whole response and
 * sends the next (a closed loop); with {@code --client-wait poll} each thread waits for its answer
 * in a selector of its own instead of a blocking read ({@link ClientWait}). After a warm-up, each
 * request's latency ({@link System#nanoTime}) is recorded; throughput is the requests completed in
 * the measured window divided by its length.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.modserv.benchmarks.HttpPredictBench \
 *     [--warmup 5] [--measure 8] [--connections 1,16,64] [--rounds 3] [--targets ...] \
 *     [--client-wait read|poll] [--out results.tsv]
 * </pre>
 *
 * Run from the repository root (the model is {@code -Dmodserv.bench.mlp}, see {@link
 * OnnxBenchmark}). Loopback only.
 */
public final class HttpPredictBench {
  /** The request body: one row of the MLP's four inputs; its one input {@code x} takes rows. */
  static final String BODY = "{\"model\":\"mlp\",\"inputs\":[[0.5,-0.25,1.0,0.75]]}";

  /** The same row as an Open Inference Protocol v2 request. */
  static final String OIP_BODY = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\","
      + "\"shape\":[1,4],\"data\":[0.5,-0.25,1.0,0.75]}]}";

  static final String PATH = "/api/predict";
  static final String OIP_PATH = "/v2/models/mlp/infer";

  /** The bare handler's constant answer, shaped and sized like the adapter's. */
  static final String CONSTANT = "{\"model\":\"mlp\",\"version\":1,\"outputs\":[[0.123456789,"
      + "-0.23456789,0.3456789]],\"n_samples\":1,\"latency_us\":42,\"done\":true}";

  static final ObjectMapper MAPPER = new ObjectMapper();

  private HttpPredictBench() {}

  /** What is measured: a server, a transport and a route. */
  enum Target {
    ADAPTER_TCP("adapter", "tcp", PATH, BODY),
    ADAPTER_UDS("adapter", "uds", PATH, BODY),
    BARE_TCP("bare jetty", "tcp", PATH, BODY),
    BARE_UDS("bare jetty", "uds", PATH, BODY),
    /** The adapter's Open Inference Protocol v2 route. */
    OIP_TCP("adapter oip", "tcp", OIP_PATH, OIP_BODY),
    OIP_UDS("adapter oip", "uds", OIP_PATH, OIP_BODY),
    /**
     * The adapter with tracing on: every request, queue wait and batch a span (OpenTelemetry).
     * Measured only when named in {@code --targets}, as is {@link #OIP_UDS}.
     */
    TRACED_TCP("adapter+otel", "tcp", PATH, BODY),
    /**
     * The bare handler behind the adapter's selectors, which poll before they sleep as the
     * adapter's do ({@code HttpAdapter.Builder.selectorSpin}): what the poll alone gives. Measured
     * only when named, as are the two below.
     */
    BARE_POLL_TCP("bare+poll", "tcp", PATH, BODY),
    BARE_POLL_UDS("bare+poll", "uds", PATH, BODY),
    /** The adapter with {@code selectorSpin(Duration.ZERO)}: selectors that sleep at once. */
    NO_POLL_TCP("adapter-no-poll", "tcp", PATH, BODY),
    NO_POLL_UDS("adapter-no-poll", "uds", PATH, BODY),
    /**
     * The bare handler that runs the model itself ({@link BareModelHandler}): what HTTP and the
     * model's run cost with no serving layer. Measured only when named.
     */
    BARE_MODEL_TCP("bare+model", "tcp", PATH, BODY),
    BARE_MODEL_UDS("bare+model", "uds", PATH, BODY);

    final String server;
    final String transport;
    final String path;
    final String body;

    Target(String server, String transport, String path, String body) {
      this.server = server;
      this.transport = transport;
      this.path = path;
      this.body = body;
    }

    /**
     * The targets a run measures unless told: all but the traced adapter, OIP's socket and the
     * poll's comparisons.
     */
    static List<Target> measuredByDefault() {
      return Arrays.stream(values()).filter(t -> t.compareTo(OIP_UDS) < 0).toList();
    }
  }

  // ---- the servers ----

  /** The bare handler: body read asynchronously, parsed by Jackson, a constant answer. */
  static final class BareHandler extends Handler.Abstract.NonBlocking {
    private static final byte[] ANSWER = CONSTANT.getBytes(StandardCharsets.UTF_8);

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      Content.Source.asByteArrayAsync(request, 16 << 20).whenComplete((bytes, failure) -> {
        if (failure != null) {
          Response.writeError(request, response, callback, failure);
          return;
        }
        try {
          JsonNode tree = MAPPER.readTree(bytes);
          if (tree == null || !tree.has("model") || !tree.has("inputs")) {
            Response.writeError(request, response, callback, 400, "bad request");
            return;
          }
        } catch (IOException e) {
          Response.writeError(request, response, callback, 400, "malformed JSON");
          return;
        }
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, ANSWER.length);
        response.write(true, ByteBuffer.wrap(ANSWER), callback);
      });
      return true;
    }
  }

  /**
   * The bare handler with the model: the same JSON read, then the MLP run at once on the thread
   * that read the request, with ONNX Runtime alone (a run a request, no batching, no queue), and
   * its rows written back as the adapter writes them. The adapter's distance from {@link
   * BareHandler} includes the model's run; its distance from this one is the serving layer's.
   */
  static final class BareModelHandler extends Handler.Abstract.NonBlocking {
    private static final int WIDTH = 4;
    private final OrtSession session;

    BareModelHandler(OrtSession session) {
      this.session = session;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      Content.Source.asByteArrayAsync(request, 16 << 20).whenComplete((bytes, failure) -> {
        if (failure != null) {
          Response.writeError(request, response, callback, failure);
          return;
        }
        float[] rows;
        try {
          rows = rows(MAPPER.readTree(bytes));
        } catch (IOException | IllegalArgumentException e) {
          Response.writeError(request, response, callback, 400, "bad request");
          return;
        }
        byte[] answer;
        try (OnnxTensor x = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(),
                FloatBuffer.wrap(rows), new long[] {rows.length / WIDTH, WIDTH});
            OrtSession.Result result = session.run(Map.of("x", x))) {
          ObjectNode body = MAPPER.createObjectNode().put("model", "mlp").put("version", 1);
          body.putPOJO("outputs", result.get(0).getValue());
          answer = MAPPER.writeValueAsBytes(body);
        } catch (OrtException | IOException e) {
          Response.writeError(request, response, callback, 500, String.valueOf(e.getMessage()));
          return;
        }
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, answer.length);
        response.write(true, ByteBuffer.wrap(answer), callback);
      });
      return true;
    }

    /** The request's rows, each {@link #WIDTH} numbers, one after another. */
    private static float[] rows(@Nullable JsonNode tree) {
      JsonNode inputs = tree == null ? null : tree.get("inputs");
      if (inputs == null || !inputs.isArray() || inputs.isEmpty() || inputs.size() > 1024) {
        throw new IllegalArgumentException("inputs");
      }
      float[] rows = new float[inputs.size() * WIDTH];
      for (int r = 0; r < inputs.size(); r++) {
        JsonNode row = inputs.get(r);
        if (!row.isArray() || row.size() != WIDTH) {
          throw new IllegalArgumentException("inputs[" + r + "]");
        }
        for (int c = 0; c < WIDTH; c++) {
          if (!row.get(c).isNumber()) {
            throw new IllegalArgumentException("inputs[" + r + "][" + c + "]");
          }
          rows[r * WIDTH + c] = row.get(c).floatValue();
        }
      }
      return rows;
    }
  }

  /** The model server, the adapter and the bare Jetty server, each on TCP and a socket. */
  static final class Servers implements AutoCloseable {
    final ModelServer modelServer;
    final HttpAdapter adapter;
    final Telemetry telemetry;
    final ModelServer tracedServer;
    final HttpAdapter traced;
    final Server bare;
    final int barePort;
    final Server barePoll;
    final int barePollPort;
    final HttpAdapter noPoll;
    final OrtSession bareModelSession;
    final Server bareModel;
    final int bareModelPort;
    final Path dir;
    final Path adapterSocket;
    final Path bareSocket;
    final Path barePollSocket;
    final Path noPollSocket;
    final Path bareModelSocket;

    Servers() throws Exception {
      this(0);
    }

    /** With {@code selectors} per connector in each adapter; 0 for the adapter's default. */
    Servers(int selectors) throws Exception {
      dir = Files.createTempDirectory("modserv-http-bench");
      adapterSocket = dir.resolve("adapter.sock");
      bareSocket = dir.resolve("bare.sock");
      barePollSocket = dir.resolve("bare-poll.sock");
      noPollSocket = dir.resolve("no-poll.sock");
      bareModelSocket = dir.resolve("bare-model.sock");
      modelServer = serveMlp();
      adapter = adapter(modelServer, selectors).unixSocket(adapterSocket).build();
      adapter.start();
      // As modserv serve --otlp-endpoint sets it up, every span sampled and exported in batches;
      // to an exporter that drops them, so that the cost measured is the server's, not a network's.
      telemetry = Telemetry.of(BatchSpanProcessor.builder(
          SpanExporter.composite(java.util.List.of())).build());
      tracedServer = serveMlp(telemetry.observationRegistry());
      traced = adapter(tracedServer, selectors).build();
      traced.start();
      noPoll = adapter(modelServer, selectors).unixSocket(noPollSocket)
          .selectorSpin(Duration.ZERO).build();
      noPoll.start();

      bare = new Server();
      ServerConnector tcp = new ServerConnector(bare);
      tcp.setHost("127.0.0.1");
      tcp.setPort(0);
      bare.addConnector(tcp);
      UnixDomainServerConnector uds = new UnixDomainServerConnector(bare,
          new HttpConnectionFactory());
      uds.setUnixDomainPath(bareSocket);
      bare.addConnector(uds);
      bare.setHandler(new BareHandler());
      bare.start();
      barePort = tcp.getLocalPort();

      barePoll = new Server();
      // As many selectors as the adapter has.
      int pollSelectors = selectors > 0 ? selectors : RoundSelector.perConnector();
      Duration spin = Duration.ofNanos(HttpAdapter.DEFAULT_SELECTOR_SPIN_MICROS * 1000);
      ServerConnector pollTcp = RoundSelector.tcp(barePoll, pollSelectors, spin,
          new HttpConnectionFactory());
      pollTcp.setHost("127.0.0.1");
      pollTcp.setPort(0);
      barePoll.addConnector(pollTcp);
      UnixDomainServerConnector pollUds = RoundSelector.unixDomain(barePoll, pollSelectors, spin,
          new HttpConnectionFactory());
      pollUds.setUnixDomainPath(barePollSocket);
      barePoll.addConnector(pollUds);
      barePoll.setHandler(new BareHandler());
      barePoll.start();
      barePollPort = pollTcp.getLocalPort();

      // The options the served model gets: one intra-op thread.
      try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
        options.setIntraOpNumThreads(1);
        bareModelSession = OrtEnvironment.getEnvironment().createSession(mlpPath().toString(),
            options);
      }
      bareModel = new Server();
      ServerConnector modelTcp = new ServerConnector(bareModel);
      modelTcp.setHost("127.0.0.1");
      modelTcp.setPort(0);
      bareModel.addConnector(modelTcp);
      UnixDomainServerConnector modelUds = new UnixDomainServerConnector(bareModel,
          new HttpConnectionFactory());
      modelUds.setUnixDomainPath(bareModelSocket);
      bareModel.addConnector(modelUds);
      bareModel.setHandler(new BareModelHandler(bareModelSession));
      bareModel.start();
      bareModelPort = modelTcp.getLocalPort();
    }

    SocketAddress address(Target t) {
      return switch (t) {
        case ADAPTER_TCP, OIP_TCP -> new InetSocketAddress("127.0.0.1", adapter.port());
        case ADAPTER_UDS, OIP_UDS -> UnixDomainSocketAddress.of(adapterSocket);
        case BARE_TCP -> new InetSocketAddress("127.0.0.1", barePort);
        case BARE_UDS -> UnixDomainSocketAddress.of(bareSocket);
        case TRACED_TCP -> new InetSocketAddress("127.0.0.1", traced.port());
        case BARE_POLL_TCP -> new InetSocketAddress("127.0.0.1", barePollPort);
        case BARE_POLL_UDS -> UnixDomainSocketAddress.of(barePollSocket);
        case NO_POLL_TCP -> new InetSocketAddress("127.0.0.1", noPoll.port());
        case NO_POLL_UDS -> UnixDomainSocketAddress.of(noPollSocket);
        case BARE_MODEL_TCP -> new InetSocketAddress("127.0.0.1", bareModelPort);
        case BARE_MODEL_UDS -> UnixDomainSocketAddress.of(bareModelSocket);
      };
    }

    @Override
    public void close() throws Exception {
      adapter.close();
      traced.close();
      noPoll.close();
      bare.stop();
      barePoll.stop();
      bareModel.stop();
      bareModelSession.close();
      modelServer.close();
      tracedServer.close();
      telemetry.close();
      Files.deleteIfExists(bareSocket);
      Files.deleteIfExists(barePollSocket);
      Files.deleteIfExists(noPollSocket);
      Files.deleteIfExists(bareModelSocket);
      Files.deleteIfExists(adapterSocket);
      Files.deleteIfExists(dir);
    }
  }

  /** An adapter on a free port, with {@code selectors} per connector (0: its default). */
  static HttpAdapter.Builder adapter(ModelServer server, int selectors) {
    HttpAdapter.Builder b = HttpAdapter.builder(server).port(0);
    return selectors > 0 ? b.selectors(selectors) : b;
  }

  /** The MLP served as {@link OnnxBenchmark} serves it (batches up to 32, one intra-op thread). */
  static ModelServer serveMlp() {
    return serveMlp(ObservationRegistry.NOOP);
  }

  /**
   * The engine's own number of instances, unless {@code -Dmodserv.bench.instances=N} sets one (to
   * compare the default with one instance in the same build).
   */
  private static BatchingPolicy.Builder instances(BatchingPolicy.Builder policy) {
    Integer instances = Integer.getInteger("modserv.bench.instances");
    return instances == null ? policy : policy.instances(instances);
  }

  /** The MLP's file, from the repository root or from benchmarks/ (where the tests run). */
  static Path mlpPath() {
    Path mlp = OnnxBenchmark.MLP;
    if (!Files.exists(mlp) && Files.exists(Path.of("..").resolve(mlp))) {
      mlp = Path.of("..").resolve(mlp);
    }
    return mlp;
  }

  static ModelServer serveMlp(ObservationRegistry observations) {
    Path mlp = mlpPath();
    ModelServer server = ModelServer.builder().observationRegistry(observations).build();
    server.registry().configure("mlp", ModelConfig.builder()
        .batching(instances(BatchingPolicy.builder().maxBatchSize(32).maxQueueSize(1024))
            .build())
        .build());
    ModelStatus status = server.registry().load("mlp", 1,
        ModelSource.of(mlp).withOption("intra-op-threads", "1")).join();
    if (status.state() != ModelState.READY) {
      server.close();
      throw new IllegalStateException("the MLP did not load from " + mlp + ": " + status);
    }
    return server;
  }

  // ---- the client ----

  /**
   * How a client thread waits for its answer. The kernel treats the two alike over TCP but not
   * over a Unix socket: there, when the server reads a request, the kernel wakes every thread
   * sleeping on the client's socket because it is writable again ({@code unix_write_space}), and a
   * thread blocked in {@code read} wakes for it, finds no answer and sleeps again. A thread that
   * waits in {@code epoll} (or {@code poll}) for readable data is not woken by free space.
   */
  enum ClientWait {
    /** A blocking {@code read}, as a thread-per-connection client on platform threads does. */
    READ,
    /**
     * A non-blocking channel and a selector of its own ({@code epoll_wait} for readable), as event
     * loop clients (curl, Go's net, Netty, Jetty's client, the JDK's {@code HttpClient}) and a
     * virtual thread's blocking read do.
     */
    POLL
  }

  /** One HTTP/1.1 keep-alive connection; one request in flight at a time. */
  static final class Conn implements AutoCloseable {
    private final SocketChannel channel;
    /** The client's own selector and its key, with {@link ClientWait#POLL}; else null. */
    private final @Nullable Selector waiter;
    private final @Nullable SelectionKey key;
    private final ByteBuffer request;
    private ByteBuffer in = ByteBuffer.allocateDirect(16 << 10);
    private byte[] lastBody = new byte[0];

    Conn(SocketAddress address, String path, String body) throws IOException {
      this(address, path, body, ClientWait.READ);
    }

    Conn(SocketAddress address, String path, String body, ClientWait wait) throws IOException {
      this(address, post(path, "Content-Type: application/json\r\n",
          body.getBytes(StandardCharsets.UTF_8)), wait);
    }

    /** A blocking connection that sends {@code httpRequest}, a whole request, each call. */
    Conn(SocketAddress address, byte[] httpRequest) throws IOException {
      this(address, httpRequest, ClientWait.READ);
    }

    /** A connection that sends {@code httpRequest}, a whole request, each call. */
    Conn(SocketAddress address, byte[] httpRequest, ClientWait wait) throws IOException {
      SocketChannel opened = SocketChannel.open(address);
      Selector selector = null;
      try {
        if (address instanceof InetSocketAddress) {
          opened.setOption(StandardSocketOptions.TCP_NODELAY, true);
        }
        if (wait == ClientWait.POLL) {
          opened.configureBlocking(false);
          selector = Selector.open();
          key = opened.register(selector, SelectionKey.OP_READ);
        } else {
          key = null;
        }
      } catch (IOException | RuntimeException e) {
        try (opened; Selector s = selector) {
          throw e;
        }
      }
      channel = opened;
      waiter = selector;
      request = ByteBuffer.allocateDirect(httpRequest.length);
      request.put(httpRequest).flip();
    }

    /** A POST of {@code body} to {@code path}; {@code headers} end each line with CRLF. */
    static byte[] post(String path, String headers, byte[] body) {
      byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: localhost\r\n" + headers
          + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
      byte[] out = Arrays.copyOf(head, head.length + body.length);
      System.arraycopy(body, 0, out, head.length, body.length);
      return out;
    }

    /** Sends the request and reads the whole response; returns its status. */
    int call(boolean keepBody) throws IOException {
      request.rewind();
      while (request.hasRemaining()) {
        if (channel.write(request) == 0 && waiter != null && key != null) {
          awaitWritable(waiter, key);
        }
      }
      in.clear();
      int headerEnd = -1;
      while (headerEnd < 0) {
        fill();
        headerEnd = headerEnd(in.position());
      }
      int status = status();
      int length = contentLength(headerEnd);
      int total = headerEnd + length;
      if (total > in.capacity()) {
        ByteBuffer bigger = ByteBuffer.allocateDirect(total);
        in.flip();
        bigger.put(in);
        in = bigger;
      }
      while (in.position() < total) {
        fill();
      }
      if (in.position() != total) {
        throw new IOException("more bytes than one response: " + in.position() + " > " + total);
      }
      if (keepBody) {
        lastBody = new byte[length];
        in.get(headerEnd, lastBody);
      }
      return status;
    }

    String lastBody() {
      return new String(lastBody, StandardCharsets.UTF_8);
    }

    private void fill() throws IOException {
      if (!in.hasRemaining()) {
        throw new IOException("response headers larger than " + in.capacity() + " bytes");
      }
      int n;
      while ((n = channel.read(in)) == 0 && waiter != null) {
        await(waiter);
      }
      if (n < 0) {
        throw new EOFException("the server closed the connection");
      }
    }

    /** A full send buffer: unlikely for a request of a few hundred bytes, but possible. */
    private static void awaitWritable(Selector waiter, SelectionKey key) throws IOException {
      key.interestOps(SelectionKey.OP_WRITE);
      try {
        await(waiter);
      } finally {
        key.interestOps(SelectionKey.OP_READ);
      }
    }

    /**
     * Waits for the key's interest, as a blocking channel would: an interrupted thread gets an
     * exception rather than a select that returns at once, forever.
     */
    private static void await(Selector waiter) throws IOException {
      waiter.select();
      waiter.selectedKeys().clear();
      if (Thread.interrupted()) {
        throw new InterruptedIOException("interrupted while waiting for the server");
      }
    }

    /** The index after the blank line ending the headers, or -1. */
    private int headerEnd(int limit) {
      for (int i = 3; i < limit; i++) {
        if (in.get(i) == '\n' && in.get(i - 1) == '\r' && in.get(i - 2) == '\n'
            && in.get(i - 3) == '\r') {
          return i + 1;
        }
      }
      return -1;
    }

    private int status() {
      // "HTTP/1.1 200 ..."
      return (in.get(9) - '0') * 100 + (in.get(10) - '0') * 10 + (in.get(11) - '0');
    }

    private int contentLength(int headerEnd) throws IOException {
      byte[] head = new byte[headerEnd];
      in.get(0, head);
      String h = new String(head, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
      int i = h.indexOf("\r\ncontent-length:");
      if (i < 0) {
        throw new IOException("no Content-Length in the response: " + h);
      }
      int end = h.indexOf("\r\n", i + 2);
      return Integer.parseInt(h.substring(i + 17, end).trim());
    }

    @Override
    public void close() throws IOException {
      try (channel) {
        if (waiter != null) {
          waiter.close();
        }
      }
    }
  }

  /** One configuration's figures. */
  record Result(Target target, int connections, long requests, long errors, double seconds,
      long p50Nanos, long p99Nanos, long p999Nanos, long maxNanos) {
    double rps() {
      return requests / seconds;
    }
  }

  /**
   * Runs one configuration: warm-up, then a measured window; all connections open throughout, their
   * clients waiting for answers as {@code wait} says.
   */
  static Result run(Servers servers, Target target, int connections, double warmupSeconds,
      double measureSeconds, ClientWait wait) throws Exception {
    SocketAddress address = servers.address(target);
    LongBuffer[] samples = new LongBuffer[connections];
    int[] counts = new int[connections];
    long[] errors = new long[connections];
    Throwable[] failures = new Throwable[connections];
    CountDownLatch ready = new CountDownLatch(connections);
    CountDownLatch go = new CountDownLatch(1);
    long[] window = new long[2];
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      int id = c;
      Thread t = new Thread(() -> {
        // Off the heap: an array on it (512 KB a connection, growing) was copied by every young
        // collection of this JVM until it was tenured, which made the pauses 9-19 ms instead of
        // 1-2 ms for the servers measured in the same JVM.
        LongBuffer lat = latencies(1 << 16);
        int n = 0;
        try (Conn conn = new Conn(address, target.path, target.body, wait)) {
          ready.countDown();
          go.await();
          long measureStart = window[0];
          long end = window[1];
          while (true) {
            long t0 = System.nanoTime();
            if (t0 >= end) {
              break;
            }
            int status = conn.call(false);
            long t1 = System.nanoTime();
            if (t0 >= measureStart && t1 <= end) {
              if (status != 200) {
                errors[id]++;
              } else {
                if (n == lat.capacity()) {
                  lat = latencies(n * 2).put(lat.flip());
                }
                lat.put(t1 - t0);
                n++;
              }
            }
          }
        } catch (Throwable e) {
          failures[id] = e;
          ready.countDown();
        }
        samples[id] = lat;
        counts[id] = n;
      }, "client-" + c);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    ready.await();
    long now = System.nanoTime();
    window[0] = now + (long) (warmupSeconds * 1e9);
    window[1] = window[0] + (long) (measureSeconds * 1e9);
    go.countDown();
    for (Thread t : threads) {
      t.join();
    }
    for (Throwable f : failures) {
      if (f != null) {
        throw new IllegalStateException(target + " c=" + connections + " failed", f);
      }
    }
    int total = 0;
    for (int n : counts) {
      total += n;
    }
    long[] all = new long[total];
    int at = 0;
    long errs = 0;
    for (int c = 0; c < connections; c++) {
      samples[c].get(0, all, at, counts[c]);
      at += counts[c];
      errs += errors[c];
    }
    Arrays.sort(all);
    return new Result(target, connections, total, errs, measureSeconds, pct(all, 0.50),
        pct(all, 0.99), pct(all, 0.999), total == 0 ? 0 : all[total - 1]);
  }

  private static LongBuffer latencies(int capacity) {
    return ByteBuffer.allocateDirect(capacity * Long.BYTES).order(ByteOrder.nativeOrder())
        .asLongBuffer();
  }

  static long pct(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  static String loadavg() {
    try {
      String s = Files.readString(Path.of("/proc/loadavg")).trim();
      String[] f = s.split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  public static void main(String[] args) throws Exception {
    double warmup = 5;
    double measure = 8;
    int rounds = 3;
    int[] connections = {1, 16, 64};
    List<Target> targets = Target.measuredByDefault();
    int selectors = 0;
    Path out = null;
    ClientWait wait = ClientWait.READ;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--warmup" -> warmup = Double.parseDouble(args[++i]);
        case "--measure" -> measure = Double.parseDouble(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--connections" -> connections = Arrays.stream(args[++i].split(","))
            .mapToInt(Integer::parseInt).toArray();
        case "--targets" -> targets = Arrays.stream(args[++i].split(","))
            .map(name -> Target.valueOf(name.strip().toUpperCase(Locale.ROOT))).toList();
        case "--out" -> out = Path.of(args[++i]);
        case "--selectors" -> selectors = Integer.parseInt(args[++i]);
        case "--client-wait" -> wait = ClientWait.valueOf(args[++i].toUpperCase(Locale.ROOT));
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + "; use --warmup S --measure S --rounds N --connections 1,16,64 --targets "
            + Arrays.toString(Target.values()).replaceAll("[\\[\\] ]", "")
            + " --client-wait read|poll --selectors N --out FILE");
      }
    }
    PrintStream o = System.out;
    o.printf(Locale.ROOT, "HttpPredictBench: POST %s and %s, tiny ONNX MLP; %d rounds, each "
        + "configuration %.0f s warm-up + %.0f s measured per round; clients wait by %s; "
        + "Jetty %s; %s; %d CPUs; adapter selectors per connector: %s%n", PATH, OIP_PATH,
        rounds, warmup, measure, wait.name().toLowerCase(Locale.ROOT), Jetty.VERSION,
        Runtime.version(), Runtime.getRuntime().availableProcessors(),
        selectors > 0 ? selectors : "default");
    // Round r runs every configuration once, so that a noisy minute on a shared machine spoils one
    // round of each rather than every round of one; the summary takes the median round.
    Map<String, List<Result>> byConfiguration = new LinkedHashMap<>();
    Map<String, Median> medians = new LinkedHashMap<>();
    try (Servers servers = new Servers(selectors)) {
      // The answers first: both servers must answer 200 with their JSON on both transports.
      for (Target t : targets) {
        try (Conn conn = new Conn(servers.address(t), t.path, t.body)) {
          int status = conn.call(true);
          if (status != 200) {
            throw new IllegalStateException(t + " answered " + status + ": " + conn.lastBody());
          }
          o.println("  " + t + " -> " + conn.lastBody());
        }
      }
      // Every server gets the JIT's attention before anything is measured.
      for (Target t : targets) {
        run(servers, t, 4, warmup, 0.1, wait);
      }
      o.printf("%-5s %-11s %-5s %5s %10s %10s %9s %9s %9s %9s %7s  %s%n", "round", "server",
          "conn", "c", "requests", "req/s", "p50 us", "p99 us", "p99.9 us", "max us", "non200",
          "load");
      for (int round = 1; round <= rounds; round++) {
        for (int c : connections) {
          for (Target t : targets) {
            String before = loadavg();
            Result r = run(servers, t, c, Math.min(warmup, 1), measure, wait);
            byConfiguration.computeIfAbsent(t + "/" + c, k -> new ArrayList<>()).add(r);
            o.printf(Locale.ROOT, "%-5d %-11s %-5s %5d %10d %10.0f %9.1f %9.1f %9.1f %9.1f %7d"
                + "  %s -> %s%n", round, t.server, t.transport, c, r.requests(), r.rps(),
                r.p50Nanos() / 1e3, r.p99Nanos() / 1e3, r.p999Nanos() / 1e3, r.maxNanos() / 1e3,
                r.errors(), before, loadavg());
          }
        }
      }
    }
    o.println();
    o.println("median of " + rounds + " rounds:");
    String header = "server\ttransport\tconnections\trps\tp50_us\tp99_us\tp999_us\tnon200\n";
    StringBuilder tsv = new StringBuilder(header);
    o.printf("%-11s %-5s %5s %10s %9s %9s %9s %7s%n", "server", "conn", "c", "req/s", "p50 us",
        "p99 us", "p99.9 us", "non200");
    for (List<Result> rs : byConfiguration.values()) {
      Result first = rs.get(0);
      double rps = median(rs.stream().mapToDouble(Result::rps).toArray());
      double p50 = median(rs.stream().mapToDouble(r -> r.p50Nanos() / 1e3).toArray());
      double p99 = median(rs.stream().mapToDouble(r -> r.p99Nanos() / 1e3).toArray());
      double p999 = median(rs.stream().mapToDouble(r -> r.p999Nanos() / 1e3).toArray());
      long errors = rs.stream().mapToLong(Result::errors).sum();
      medians.put(first.target() + "/" + first.connections(), new Median(rps, p50, p99));
      o.printf(Locale.ROOT, "%-11s %-5s %5d %10.0f %9.1f %9.1f %9.1f %7d%n",
          first.target().server, first.target().transport, first.connections(), rps, p50, p99,
          p999, errors);
      tsv.append(String.format(Locale.ROOT, "%s\t%s\t%d\t%.0f\t%.1f\t%.1f\t%.1f\t%d%n",
          first.target().server, first.target().transport, first.connections(), rps, p50, p99,
          p999, errors));
    }
    o.println();
    Derived.print(o, medians);
    Derived.printAgainstModel(o, medians, connections);
    if (out != null) {
      try {
        Files.writeString(out, tsv.toString());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    System.exit(0);
  }

  /** A configuration's median round: req/s, p50 and p99 in microseconds. */
  record Median(double rps, double p50, double p99) {}

  /**
   * The lines issue 17 judges, from the medians: the adapter against the bare handler on the same
   * run. A line whose configurations were not measured is left out.
   */
  static final class Derived {
    private Derived() {}

    static void print(PrintStream o, Map<String, Median> m) {
      // Issue 17's throughput line at 16 connections: 70% of the bare handler's on a 2-core
      // machine, 50% on a 16-core one.
      int cores = Runtime.getRuntime().availableProcessors();
      int share = cores >= 16 ? 50 : 70;
      o.printf(Locale.ROOT,
          "against the bare handler (issue 17's lines, targets for a %s machine):%n",
          cores >= 16 ? "16-core" : "2-core");
      for (String[] pair : new String[][] {{"ADAPTER_TCP", "BARE_TCP"}, {"ADAPTER_UDS", "BARE_UDS"},
          {"OIP_TCP", "BARE_TCP"}, {"OIP_UDS", "BARE_UDS"}}) {
        Median a = m.get(pair[0] + "/16");
        Median b = m.get(pair[1] + "/16");
        if (a != null && b != null) {
          line(o, String.format(Locale.ROOT, "%s / %s req/s at 16 connections: %.0f%%", pair[0],
              pair[1], 100 * a.rps() / b.rps()), 100 * a.rps() >= share * b.rps(),
              ">= " + share + "%");
        }
      }
      for (String[] pair : new String[][] {{"ADAPTER_TCP", "BARE_TCP"}, {"ADAPTER_UDS", "BARE_UDS"},
          {"OIP_TCP", "BARE_TCP"}, {"OIP_UDS", "BARE_UDS"}}) {
        Median a = m.get(pair[0] + "/1");
        Median b = m.get(pair[1] + "/1");
        if (a != null && b != null) {
          line(o, String.format(Locale.ROOT, "%s p50 - %s p50 at 1 connection: %+.1f us",
              pair[0], pair[1], a.p50() - b.p50()), a.p50() - b.p50() <= 20, "<= 20 us");
        }
      }
      for (String prefix : new String[] {"ADAPTER", "OIP"}) {
        Median at = m.get(prefix + "_TCP/1");
        Median au = m.get(prefix + "_UDS/1");
        Median bt = m.get("BARE_TCP/1");
        Median bu = m.get("BARE_UDS/1");
        if (at != null && au != null && bt != null && bu != null) {
          // The gain is the microseconds the socket saves at p50; as a ratio too, for issue 7's.
          double adapterGain = at.p50() - au.p50();
          double bareGain = bt.p50() - bu.p50();
          line(o, String.format(Locale.ROOT, "%s socket-over-TCP p50 gain at 1 connection: %.1f us"
              + " (%.2fx) against bare %.1f us (%.2fx): %.0f%% of bare's", prefix, adapterGain,
              at.p50() / au.p50(), bareGain, bt.p50() / bu.p50(), 100 * adapterGain / bareGain),
              // A bare handler that gained nothing gives no share to judge.
              bareGain > 0 && adapterGain >= 0.9 * bareGain, ">= 90% of a positive gain");
        }
      }
      for (String[] pair : new String[][] {{"ADAPTER_TCP", "BARE_TCP"}, {"ADAPTER_UDS", "BARE_UDS"},
          {"OIP_TCP", "BARE_TCP"}, {"OIP_UDS", "BARE_UDS"}}) {
        Median a = m.get(pair[0] + "/16");
        Median b = m.get(pair[1] + "/16");
        if (a != null && b != null) {
          line(o, String.format(Locale.ROOT, "%s p99 / %s p99 at 16 connections: %.0f / %.0f us"
              + " = %.2fx", pair[0], pair[1], a.p99(), b.p99(), a.p99() / b.p99()),
              a.p99() <= 2 * b.p99(), "<= 2x");
        }
      }
    }

    /**
     * The adapter against the bare handler that runs the model itself, where both were measured:
     * the serving layer's own cost, not one of issue 17's lines.
     */
    static void printAgainstModel(PrintStream o, Map<String, Median> m, int[] connections) {
      boolean header = false;
      for (int c : connections) {
        for (String transport : new String[] {"TCP", "UDS"}) {
          Median a = m.get("ADAPTER_" + transport + "/" + c);
          Median b = m.get("BARE_MODEL_" + transport + "/" + c);
          if (a == null || b == null) {
            continue;
          }
          if (!header) {
            o.println("against the bare handler that runs the model itself (for reading, not"
                + " judged):");
            header = true;
          }
          o.printf(Locale.ROOT, "  ADAPTER_%s / BARE_MODEL_%s at %d connection%s: req/s %.0f%%,"
              + " p50 %+.1f us, p99 %.2fx%n", transport, transport, c, c == 1 ? "" : "s",
              100 * a.rps() / b.rps(), a.p50() - b.p50(), a.p99() / b.p99());
        }
      }
    }

    private static void line(PrintStream o, String text, boolean met, String target) {
      o.printf("  %-100s %s (%s)%n", text, met ? "met" : "MISSED", target);
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
}
