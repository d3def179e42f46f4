package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelRef;
import dev.modserv.api.Tensor;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.core.VersionPolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * modserv-tensorflow, found on the class path by ModelServer: two versions of one softmax
 * regression (SavedModels built here, with different weights) served side by side through the
 * batcher, and a label moved from one to the other while callers keep calling it.
 */
class TensorFlowServingTest {
  private static final float[][] W = {
    {0.5f, -1.0f, 0.25f}, {-0.75f, 0.5f, 1.0f}, {1.5f, 0.0f, -0.5f}, {0.1f, 0.2f, 0.3f},
  };
  private static final float[] B = {0.1f, -0.2f, 0.05f};

  @TempDir static Path dir;
  private static ModelServer server;

  @BeforeAll
  static void start() throws IOException {
    export(dir.resolve("v1"), 1);
    export(dir.resolve("v2"), -1);
    server = ModelServer.builder().build();
    server.registry().configure("softmax", ModelConfig.builder()
        .versionPolicy(VersionPolicy.all())
        .batching(BatchingPolicy.builder().maxBatchSize(32).maxQueueDelay(Duration.ofMillis(1))
            .maxQueueSize(10_000).build())
        .build());
    server.registry().load("softmax", 1, dir.resolve("v1")).join();
    server.registry().load("softmax", 2, dir.resolve("v2")).join();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** Exports the softmax regression with its weights multiplied by {@code sign}. */
  private static void export(Path to, int sign) throws IOException {
    float[][] w = new float[4][3];
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 3; j++) {
        w[i][j] = sign * W[i][j];
      }
    }
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x =
          tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      Operand<TFloat32> logits =
          tf.math.add(tf.linalg.matMul(x, tf.variable(tf.constant(w))), tf.variable(tf.constant(B)));
      Operand<TFloat32> probs = tf.nn.softmax(logits);
      Signature sig = Signature.builder().input("x", x).output("probs", probs).build();
      Signature raw = Signature.builder().key("logits").input("x", x).output("logits", logits)
          .build();
      SavedModelBundle.exporter(to.toString()).withFunction(SessionFunction.create(sig, s))
          .withFunction(SessionFunction.create(raw, s)).export();
    }
  }

  /** The answer of version {@code version} for one row, in plain Java. */
  private static float[] expected(long version, float[] x) {
    int sign = version == 1 ? 1 : -1;
    double[] z = new double[3];
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < 3; j++) {
      z[j] = B[j];
      for (int i = 0; i < 4; i++) {
        z[j] += (double) x[i] * sign * W[i][j];
      }
      max = Math.max(max, z[j]);
    }
    double total = 0;
    for (int j = 0; j < 3; j++) {
      z[j] = Math.exp(z[j] - max);
      total += z[j];
    }
    float[] out = new float[3];
    for (int j = 0; j < 3; j++) {
      out[j] = (float) (z[j] / total);
    }
    return out;
  }

  private static float[] row(long i) {
    return new float[] {(i % 7) - 3, (i % 5) * 0.5f, -(i % 3), 1};
  }

  @Test
  void aRequestCanNameAnotherSignature() {
    float[] x = row(4);
    InferenceResult r = server.infer(InferenceRequest.builder(ModelRef.of("softmax", 1))
        .input("x", Tensor.of(x, 1, 4)).parameter(InferenceRequest.SIGNATURE, "logits").build());
    float[] want = new float[3];
    for (int j = 0; j < 3; j++) {
      double z = B[j];
      for (int i = 0; i < 4; i++) {
        z += (double) x[i] * W[i][j];
      }
      want[j] = (float) z;
    }
    assertThat(r.outputs()).containsOnlyKeys("logits");
    assertThat(r.requireOutput("logits").toFloatArray()).containsExactly(want, within(1e-5f));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> server.infer(InferenceRequest
            .builder("softmax:1").input("x", Tensor.of(x, 1, 4))
            .parameter(InferenceRequest.SIGNATURE, "nope").build()))
        .isInstanceOfSatisfying(dev.modserv.api.ModelServingException.class, e ->
            assertThat(e.code()).isEqualTo(dev.modserv.api.ErrorCode.INVALID_INPUT))
        .hasMessageContaining("no signature 'nope'");
  }

  @Test
  void theEngineIsDiscovered() {
    assertThat(server.backends()).contains("tensorflow");
  }

  @Test
  void twoVersionsServeSideBySide() {
    float[] x = row(3);
    for (long v = 1; v <= 2; v++) {
      InferenceResult r = server.infer(InferenceRequest.builder(ModelRef.of("softmax", v))
          .input("x", Tensor.of(x, 1, 4)).build());
      assertThat(r.version()).isEqualTo(v);
      assertThat(r.requireOutput("probs").toFloatArray())
          .containsExactly(expected(v, x), within(1e-5f));
    }
    assertThat(expected(1, x)).isNotEqualTo(expected(2, x));
  }

  @Test
  void aLabelMovedUnderLoadFailsNoRequest() throws Exception {
    server.registry().label("softmax", "stable", 1);
    int threads = 6;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong counter = new AtomicLong();
    AtomicLong moved = new AtomicLong(Long.MAX_VALUE);
    Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    long[] seen = new long[3];
    CountDownLatch warm = new CountDownLatch(threads * 20);
    List<Future<long[]>> workers = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        workers.add(pool.submit(() -> {
          long[] mine = new long[3];
          while (!stop.get()) {
            long i = counter.getAndIncrement();
            float[] x = row(i);
            long movedAt = moved.get();
            try {
              InferenceResult r = server.infer(
                  InferenceRequest.builder(ModelRef.labelled("softmax", "stable"))
                      .input("x", Tensor.of(x, 1, 4)).build());
              mine[(int) r.version()]++;
              assertThat(r.requireOutput("probs").toFloatArray())
                  .containsExactly(expected(r.version(), x), within(1e-5f));
              if (movedAt != Long.MAX_VALUE) {
                assertThat(r.version()).as("a call started after the move").isEqualTo(2);
              }
            } catch (Throwable e) {
              failures.add(e);
            }
            warm.countDown();
          }
          return mine;
        }));
      }
      assertThat(warm.await(60, TimeUnit.SECONDS)).isTrue();
      server.registry().label("softmax", "stable", 2);
      moved.set(counter.get());
      long target = counter.get() + threads * 50L;
      while (counter.get() < target && failures.isEmpty()) {
        Thread.sleep(5);
      }
      stop.set(true);
      for (Future<long[]> f : workers) {
        long[] mine = f.get(60, TimeUnit.SECONDS);
        for (int v = 0; v < 3; v++) {
          seen[v] += mine[v];
        }
      }
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
    assertThat(failures).isEmpty();
    assertThat(seen[1]).as("calls served by version 1").isGreaterThan(0);
    assertThat(seen[2]).as("calls served by version 2").isGreaterThanOrEqualTo(threads * 40L);
    assertThat(seen[1] + seen[2]).isEqualTo(counter.get());
  }
}
