package dev.modserv.benchmarks;

import com.google.protobuf.ByteString;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.grpc.GrpcAdapter;
import dev.modserv.grpc.internal.proto.GRPCInferenceServiceGrpc;
import dev.modserv.grpc.internal.proto.InferTensorContents;
import dev.modserv.grpc.internal.proto.ModelInferRequest;
import dev.modserv.http.HttpAdapter;
import dev.modserv.spi.ModelSource;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The Open Inference Protocol v2 side by side in one run, on one {@code ModelServer}: gRPC over TCP
 * and over a Unix domain socket ({@link GrpcAdapter}), HTTP/JSON and HTTP with the binary tensor
 * extension ({@link HttpAdapter}, {@code POST /v2/models/{m}/infer}). Workloads: the tiny ONNX MLP,
 * one row per call, at 1 and 16 concurrent callers; and the all-MiniLM-L6-v2 embedding model
 * (the int8 {@code -q} artifact, as {@link EmbeddingCacheBench}), 32 texts per call, 1 caller.
 *
 * <p>Each caller is a thread in a closed loop (send, wait for the whole answer, send the next):
 * gRPC callers share one channel per transport (HTTP/2 streams), HTTP callers hold one keep-alive
 * connection each ({@link HttpPredictBench.Conn}). After a warm-up, each call's latency is
 * recorded; throughput is calls completed in the measured window divided by its length.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.modserv.benchmarks.GrpcSideBySide \
 *     [--warmup 3] [--measure 8] [--out results.tsv]
 * </pre>
 *
 * Run from the repository root (model paths as {@link OnnxBenchmark} and {@link
 * EmbeddingCacheBench}). Loopback only.
 */
public final class GrpcSideBySide {
  private GrpcSideBySide() {}

  /** The transports compared. */
  enum Transport { GRPC_TCP, GRPC_UDS, HTTP_JSON, HTTP_BINARY }

  /** One workload: a model and its request in every transport's form. */
  record Workload(String name, String model, ModelInferRequest grpc, byte[] json, byte[] binary) {}

  /** One caller's next call; returns whether it succeeded. */
  interface Caller extends AutoCloseable {
    boolean call() throws Exception;

    @Override
    default void close() throws Exception { }
  }

  static Workload mlp() {
    float[] row = {0.5f, -0.25f, 1.0f, 0.75f};
    ModelInferRequest.InferInputTensor.Builder x = ModelInferRequest.InferInputTensor.newBuilder()
        .setName("x").setDatatype("FP32").addShape(1).addShape(4);
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (float f : row) {
      c.addFp32Contents(f);
    }
    ModelInferRequest grpc = ModelInferRequest.newBuilder().setModelName("mlp")
        .addInputs(x.setContents(c)).build();
    String json = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4],"
        + "\"data\":[0.5,-0.25,1.0,0.75]}]}";
    ByteBuffer raw = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : row) {
      raw.putFloat(f);
    }
    String header = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4],"
        + "\"parameters\":{\"binary_data_size\":16}}],\"parameters\":{\"binary_data_output\":true}}";
    return new Workload("mlp, 1 row", "mlp", grpc, post("mlp", json, null),
        post("mlp", header, raw.array()));
  }

  static Workload minilm(int rows) {
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      texts.add("sentence number " + i + " about serving models over gRPC and HTTP");
    }
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    texts.forEach(t -> c.addBytesContents(ByteString.copyFromUtf8(t)));
    ModelInferRequest grpc = ModelInferRequest.newBuilder().setModelName("minilm")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("text")
            .setDatatype("BYTES").addShape(rows).setContents(c)).build();
    StringBuilder json = new StringBuilder("{\"inputs\":[{\"name\":\"text\",\"datatype\":"
        + "\"BYTES\",\"shape\":[" + rows + "],\"data\":[");
    ByteString.Output raw = ByteString.newOutput();
    for (int i = 0; i < rows; i++) {
      json.append(i == 0 ? "" : ",").append('"').append(texts.get(i)).append('"');
      byte[] b = texts.get(i).getBytes(StandardCharsets.UTF_8);
      raw.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array(),
          0, 4);
      raw.write(b, 0, b.length);
    }
    json.append("]}]}");
    byte[] rawBytes = raw.toByteString().toByteArray();
    String header = "{\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[" + rows
        + "],\"parameters\":{\"binary_data_size\":" + rawBytes.length + "}}],"
        + "\"parameters\":{\"binary_data_output\":true}}";
    return new Workload("minilm, " + rows + " rows", "minilm", grpc,
        post("minilm", json.toString(), null), post("minilm", header, rawBytes));
  }

  /** An OIP infer request: JSON alone, or a JSON header followed by {@code binary}. */
  private static byte[] post(String model, String json, byte @Nullable [] binary) {
    byte[] head = json.getBytes(StandardCharsets.UTF_8);
    if (binary == null) {
      return HttpPredictBench.Conn.post("/v2/models/" + model + "/infer",
          "Content-Type: application/json\r\n", head);
    }
    byte[] body = Arrays.copyOf(head, head.length + binary.length);
    System.arraycopy(binary, 0, body, head.length, binary.length);
    return HttpPredictBench.Conn.post("/v2/models/" + model + "/infer",
        "Content-Type: application/octet-stream\r\nInference-Header-Content-Length: "
            + head.length + "\r\n", body);
  }

  /** The servers: one model server behind both adapters, and a gRPC channel per transport. */
  static final class Servers implements AutoCloseable {
    final ModelServer models;
    final HttpAdapter http;
    final GrpcAdapter grpc;
    final ManagedChannel tcp;
    final ManagedChannel uds;
    final Path dir;

    Servers(boolean withMiniLm) throws IOException {
      dir = Files.createTempDirectory("modserv-grpc-bench");
      models = HttpPredictBench.serveMlp();
      if (withMiniLm) {
        models.registry().configure("minilm", ModelConfig.builder().build());
        models.registry().load("minilm", 1, ModelSource.of(EmbeddingCacheBench.MINILM)
            .withOption("intra-op-threads", "1")).join();
      }
      http = HttpAdapter.builder(models).port(0).build();
      http.start();
      grpc = GrpcAdapter.builder(models).port(0).unixSocket(dir.resolve("grpc.sock")).build();
      grpc.start();
      tcp = Grpc.newChannelBuilder("127.0.0.1:" + grpc.port(), InsecureChannelCredentials.create())
          .build();
      uds = Grpc.newChannelBuilder("unix://" + dir.resolve("grpc.sock"),
          InsecureChannelCredentials.create()).build();
    }

    Caller caller(Transport t, Workload w) throws IOException {
      return switch (t) {
        case GRPC_TCP, GRPC_UDS -> {
          var stub = GRPCInferenceServiceGrpc.newBlockingStub(t == Transport.GRPC_TCP ? tcp : uds);
          yield () -> stub.withDeadlineAfter(60, TimeUnit.SECONDS).modelInfer(w.grpc())
              .getOutputsCount() > 0;
        }
        case HTTP_JSON, HTTP_BINARY -> {
          var conn = new HttpPredictBench.Conn(new InetSocketAddress("127.0.0.1", http.port()),
              t == Transport.HTTP_JSON ? w.json() : w.binary());
          yield new Caller() {
            @Override
            public boolean call() throws IOException {
              return conn.call(false) == 200;
            }

            @Override
            public void close() throws IOException {
              conn.close();
            }
          };
        }
      };
    }

    @Override
    public void close() throws Exception {
      tcp.shutdownNow();
      uds.shutdownNow();
      grpc.close();
      http.close();
      models.close();
      Files.deleteIfExists(dir);
    }
  }

  /** One configuration's figures. */
  record Result(String workload, Transport transport, int callers, long calls, long errors,
      double seconds, long p50Nanos, long p99Nanos) {
    double rps() {
      return calls / seconds;
    }
  }

  /** Runs one configuration: every caller warms up, then the measured window. */
  static Result run(Servers servers, Workload w, Transport t, int callers, double warmup,
      double measure) throws Exception {
    long[][] samples = new long[callers][];
    int[] counts = new int[callers];
    long[] errors = new long[callers];
    Throwable[] failures = new Throwable[callers];
    CountDownLatch started = new CountDownLatch(callers);
    long begin = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
    long measureFrom = begin + (long) (warmup * 1e9);
    long end = measureFrom + (long) (measure * 1e9);
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < callers; c++) {
      int id = c;
      Thread th = Thread.ofPlatform().daemon().name("caller-" + c).start(() -> {
        long[] lat = new long[1 << 14];
        int n = 0;
        try (Caller caller = servers.caller(t, w)) {
          started.countDown();
          while (true) {
            long t0 = System.nanoTime();
            if (t0 >= end) {
              break;
            }
            boolean ok = caller.call();
            long t1 = System.nanoTime();
            if (t0 >= measureFrom && t1 <= end) {
              if (!ok) {
                errors[id]++;
              } else {
                if (n == lat.length) {
                  lat = Arrays.copyOf(lat, n * 2);
                }
                lat[n++] = t1 - t0;
              }
            }
          }
        } catch (Throwable e) {
          failures[id] = e;
          started.countDown();
        }
        samples[id] = lat;
        counts[id] = n;
      });
      threads.add(th);
    }
    for (Thread th : threads) {
      th.join();
    }
    for (Throwable f : failures) {
      if (f != null) {
        throw new IllegalStateException(w.name() + " " + t + " x" + callers + " failed", f);
      }
    }
    long[] all = new long[Arrays.stream(counts).sum()];
    int at = 0;
    for (int c = 0; c < callers; c++) {
      System.arraycopy(samples[c], 0, all, at, counts[c]);
      at += counts[c];
    }
    Arrays.sort(all);
    return new Result(w.name(), t, callers, all.length, Arrays.stream(errors).sum(), measure,
        HttpPredictBench.pct(all, 0.50), HttpPredictBench.pct(all, 0.99));
  }

  public static void main(String[] args) throws Exception {
    double warmup = 3;
    double measure = 8;
    Path out = null;
    boolean miniLm = true;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--warmup" -> warmup = Double.parseDouble(args[++i]);
        case "--measure" -> measure = Double.parseDouble(args[++i]);
        case "--out" -> out = Path.of(args[++i]);
        case "--no-minilm" -> miniLm = false;
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    List<Result> results = new ArrayList<>();
    PrintStream o = System.out;
    o.printf(Locale.ROOT, "%d CPUs, Java %s, load %s%n", Runtime.getRuntime().availableProcessors(),
        Runtime.version(), HttpPredictBench.loadavg());
    o.printf(Locale.ROOT, "%-18s %-12s %7s %10s %10s %10s %7s%n", "workload", "transport",
        "callers", "p50 ms", "p99 ms", "req/s", "errors");
    try (Servers servers = new Servers(miniLm)) {
      List<Object[]> plan = new ArrayList<>();
      Workload mlp = mlp();
      for (int callers : new int[] {1, 16}) {
        for (Transport t : Transport.values()) {
          plan.add(new Object[] {mlp, t, callers});
        }
      }
      if (miniLm) {
        Workload m = minilm(32);
        for (Transport t : Transport.values()) {
          plan.add(new Object[] {m, t, 1});
        }
      }
      for (Object[] p : plan) {
        Result r = run(servers, (Workload) p[0], (Transport) p[1], (Integer) p[2], warmup,
            measure);
        results.add(r);
        o.printf(Locale.ROOT, "%-18s %-12s %7d %10.3f %10.3f %10.0f %7d%n", r.workload(),
            r.transport(), r.callers(), r.p50Nanos() / 1e6, r.p99Nanos() / 1e6, r.rps(),
            r.errors());
      }
    }
    if (out != null) {
      StringBuilder tsv = new StringBuilder("workload\ttransport\tcallers\tp50_ms\tp99_ms\t"
          + "req_per_s\terrors\n");
      for (Result r : results) {
        tsv.append(String.format(Locale.ROOT, "%s\t%s\t%d\t%.3f\t%.3f\t%.0f\t%d%n", r.workload(),
            r.transport(), r.callers(), r.p50Nanos() / 1e6, r.p99Nanos() / 1e6, r.rps(),
            r.errors()));
      }
      Files.writeString(out, tsv);
    }
  }
}
