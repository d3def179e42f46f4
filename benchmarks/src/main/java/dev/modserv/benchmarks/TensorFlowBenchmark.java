package dev.modserv.benchmarks;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.spi.ModelSource;
import dev.modserv.tensorflow.TensorFlowBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * modserv-tensorflow through {@code ModelServer.infer} against TensorFlow Java 1.1.0 called
 * directly, on the same SavedModel and inputs, one caller ({@code avgt}, µs per call), at {@code
 * batch} 1 and 32 rows: {@link #infer} minus {@link #direct} is the serving overhead per call.
 *
 * <ul>
 *   <li>{@link #direct}: what an application does with {@code SavedModelBundle.load(dir,
 *       "serve").function("serving_default")}: a {@code TFloat32} built from a {@code float[]},
 *       {@code SessionFunction.call}, the output copied into a {@code float[]}, the input tensor
 *       and the result closed;
 *   <li>{@link #infer}: {@code server.infer(request)}, the request (a modserv {@code Tensor} over
 *       the same {@code float[]}) built once; the engine copies it into a TensorFlow tensor, runs
 *       the signature and copies the output back to the heap. The server has the engine passed
 *       explicitly (no discovery), the policy {@code maxBatchSize 32}, {@code maxQueueDelay 0},
 *       and the default warm-up.
 * </ul>
 *
 * <p>The model is built by {@link #buildSoftmax(Path)} into a temporary folder at setup: a
 * softmax regression 4 -> 3 with fixed weights in variables, input {@code x} FP32 [-1,4], output
 * {@code probs} FP32 [-1,3]. Both sides use TensorFlow's default session options.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
public class TensorFlowBenchmark {
  /** Softmax regression weights: 4 features, 3 classes. */
  static final float[][] W = {
    {0.5f, -1.0f, 0.25f},
    {-0.75f, 0.5f, 1.0f},
    {1.5f, 0.0f, -0.5f},
    {0.1f, 0.2f, 0.3f},
  };

  static final float[] B = {0.1f, -0.2f, 0.05f};

  static final String MODEL = "softmax";

  /** {@code rows} rows of 4 features, the same for both sides. */
  static float[] features(int rows) {
    float[] x = new float[rows * 4];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i % 7) * 0.25f - 0.5f;
    }
    return x;
  }

  /**
   * Writes the softmax regression as a SavedModel (tag {@code serve}, signature {@code
   * serving_default}: {@code x} FP32 [-1,4] to {@code probs} FP32 [-1,3]) into {@code dir}.
   */
  static void buildSoftmax(Path dir) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x =
          tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      Operand<TFloat32> w = tf.withName("w").variable(tf.constant(W));
      Operand<TFloat32> b = tf.withName("b").variable(tf.constant(B));
      Operand<TFloat32> logits = tf.withName("logits").math.add(tf.linalg.matMul(x, w), b);
      Operand<TFloat32> probs = tf.withName("probs").nn.softmax(logits);
      Signature serving = Signature.builder().key("serving_default")
          .input("x", x).output("probs", probs).build();
      SavedModelBundle.exporter(dir.toString())
          .withFunction(SessionFunction.create(serving, s))
          .export();
    }
  }

  /** A new temporary folder holding the SavedModel in {@code softmax/}. */
  static Path newModelFolder() throws IOException {
    Path root = Files.createTempDirectory("modserv-tf-bench");
    buildSoftmax(root.resolve(MODEL));
    return root;
  }

  static void delete(Path root) {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** TensorFlow Java alone, as an application loads it. */
  @State(Scope.Benchmark)
  public static class Direct {
    @Param({"1", "32"})
    public int batch = 1;

    Path root;
    SavedModelBundle bundle;
    SessionFunction function;
    float[] x;

    @Setup(Level.Trial)
    public void start() throws IOException {
      root = newModelFolder();
      bundle = SavedModelBundle.load(root.resolve(MODEL).toString(), "serve");
      function = bundle.function("serving_default");
      x = features(batch);
    }

    @TearDown(Level.Trial)
    public void stop() {
      bundle.close();
      delete(root);
    }
  }

  /** The same SavedModel served by a {@link ModelServer} with the TensorFlow engine. */
  @State(Scope.Benchmark)
  public static class Served {
    @Param({"1", "32"})
    public int batch = 1;

    Path root;
    ModelServer server;
    InferenceRequest request;

    @Setup(Level.Trial)
    public void start() throws IOException {
      root = newModelFolder();
      server = ModelServer.builder()
          .backend(new TensorFlowBackend())
          .discoverBackends(false)
          .build();
      server.registry().configure(MODEL, ModelConfig.builder()
          .batching(BatchingPolicy.builder()
              .maxBatchSize(32)
              .maxQueueDelay(Duration.ZERO)
              .maxQueueSize(1024)
              .build())
          .build());
      server.registry().load(MODEL, 1, ModelSource.of(root.resolve(MODEL))).join();
      request = InferenceRequest.builder(MODEL)
          .inputs(Map.of("x", Tensor.of(features(batch), batch, 4)))
          .build();
    }

    @TearDown(Level.Trial)
    public void stop() {
      server.close();
      delete(root);
    }
  }

  /** float[] in, {@code SessionFunction.call}, float[] out, every TensorFlow tensor closed. */
  @Benchmark
  public float[] direct(Direct d) {
    try (TFloat32 in = TFloat32.tensorOf(Shape.of(d.batch, 4), DataBuffers.of(d.x, true, false));
        Result result = d.function.call(Map.of("x", in))) {
      TFloat32 probs = (TFloat32) result.get("probs").orElseThrow();
      float[] out = new float[(int) probs.shape().size()];
      probs.copyTo(DataBuffers.of(out, false, false));
      return out;
    }
  }

  @Benchmark
  public InferenceResult infer(Served s) {
    return s.server.infer(s.request);
  }
}
