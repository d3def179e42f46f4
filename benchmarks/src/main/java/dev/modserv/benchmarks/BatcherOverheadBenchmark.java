package dev.modserv.benchmarks;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.FakeModel;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * What the server and its batcher add to one call, at concurrency 1, against a fake engine that
 * costs nothing: {@link #infer} ({@code server.infer(request)}) minus {@link #direct} ({@code
 * FakeModel.run} on the same inputs, in the calling thread) is the overhead per request.
 *
 * <p>{@link #inferAsync} ({@code server.inferAsync(request).join()}) shows the other path: a
 * synchronous {@code infer} runs the batch it forms on the calling thread, while {@code
 * inferAsync} hands the batch to the server's executor (a virtual thread by default) and the
 * caller is woken when it completes, so it adds the cost of two thread wake-ups.
 *
 * <p>The server uses the batched policy of {@link BatcherThroughputBenchmark} ({@code
 * maxBatchSize 128}, no delay) and its default executor; at concurrency 1 every batch holds one
 * request.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
public class BatcherOverheadBenchmark {
  /** A server with the zero-cost model loaded. */
  @State(Scope.Benchmark)
  public static class Served {
    ModelServer server;
    InferenceRequest request;

    @Setup(Level.Trial)
    public void start() {
      FakeBackend backend = FakeBackend.create();
      server = ModelServer.builder().backend(backend).discoverBackends(false).build();
      BenchModels.load(server, backend, BenchModels.batched());
      request = BenchModels.request(BenchModels.singleRow());
    }

    @TearDown(Level.Trial)
    public void stop() {
      server.close();
    }
  }

  /** The same zero-cost fake model, called directly. */
  @State(Scope.Benchmark)
  public static class Direct {
    FakeModel model;
    Map<String, Tensor> inputs;

    @Setup(Level.Trial)
    public void start() throws Exception {
      model = FakeBackend.create().load(BenchModels.SOURCE);
      inputs = BenchModels.singleRow();
    }

    @TearDown(Level.Trial)
    public void stop() {
      model.close();
    }
  }

  @Benchmark
  public InferenceResult infer(Served s) {
    return s.server.infer(s.request);
  }

  @Benchmark
  public InferenceResult inferAsync(Served s) {
    return s.server.inferAsync(s.request).join();
  }

  @Benchmark
  public Map<String, Tensor> direct(Direct d) throws Exception {
    return d.model.run(d.inputs, Set.of());
  }
}
