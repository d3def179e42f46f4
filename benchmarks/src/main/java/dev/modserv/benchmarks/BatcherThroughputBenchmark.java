package dev.modserv.benchmarks;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.FakeModel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Throughput and latency of N concurrent single-row callers through the dynamic batcher, batched
 * ({@code maxBatchSize 128}) and unbatched ({@code maxBatchSize 1}), against a fake engine that
 * costs 200 µs a call plus 20 µs a row, with one engine instance.
 *
 * <h2>How N callers are made</h2>
 *
 * Each caller is a JMH thread that calls {@link ModelServer#infer} and waits for its answer, then
 * calls again (a closed loop, like request threads of an application that embeds the server). JMH
 * fixes the thread count per benchmark method, not per {@code @Param}, so there is one method per
 * concurrency, {@code callers001} to {@code callers128}, each with its {@code @Threads}; the
 * {@code mode} parameter picks the policy. This keeps JMH's own machinery for every figure: in
 * {@link Mode#Throughput} the score is the calls completed per second by all callers together, and
 * in {@link Mode#SampleTime} the distribution (p50, p99, ...) is of single calls' latency, as a
 * caller sees it (queueing, batching, the engine, the hand-back). The alternative, one JMH thread
 * keeping N requests in flight with {@code inferAsync}, would need its own latency recorder and
 * would measure a load generator rather than callers.
 *
 * <p>At 128 callers the JVM runs 128 platform threads (mostly parked) plus the engine's virtual
 * thread: on a machine with few cores the callers' wake-ups compete with the engine's spinning for
 * CPU, as in an application.
 *
 * <p>Each trial appends the mean batch size over its measurement iterations, and the engine's busy
 * fraction (the cost of its calls over the iterations' wall time), to the batch log (see {@link
 * BenchModels#BATCH_LOG_PROPERTY}); {@code run-batcher.sh} prints both.
 */
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class BatcherThroughputBenchmark {
  /** The engine's cost per call. */
  static final Duration CALL_COST = Duration.ofNanos(200_000);

  /** The engine's cost per row. */
  static final Duration ROW_COST = Duration.ofNanos(20_000);

  /** One server with one loaded model, shared by every caller of a trial. */
  @State(Scope.Benchmark)
  public static class Served {
    /** {@code batched}: up to 128 rows per engine call; {@code unbatched}: one. */
    @Param({"batched", "unbatched"})
    public String mode = "batched";

    ModelServer server;
    FakeModel model;
    InferenceRequest request;

    private long runsAtStart;
    private long rowsAtStart;
    private long iterationStartNanos;
    private long measuredRuns;
    private long measuredRows;
    private long measuredNanos;

    @Setup(Level.Trial)
    public void start() {
      FakeBackend backend = FakeBackend.builder().cost(CALL_COST).rowCost(ROW_COST).build();
      server = ModelServer.builder().backend(backend).discoverBackends(false).build();
      model = BenchModels.load(server, backend, switch (mode) {
        case "batched" -> BenchModels.batched();
        case "unbatched" -> BenchModels.unbatched();
        default -> throw new IllegalArgumentException("mode is batched or unbatched: " + mode);
      });
      request = BenchModels.request(BenchModels.singleRow());
    }

    @Setup(Level.Iteration)
    public void markIteration() {
      runsAtStart = model.runCalls();
      rowsAtStart = model.totalRows();
      iterationStartNanos = System.nanoTime();
    }

    @TearDown(Level.Iteration)
    public void countIteration(IterationParams iteration) {
      if (iteration.getType() == IterationType.MEASUREMENT) {
        measuredNanos += System.nanoTime() - iterationStartNanos;
        measuredRuns += model.runCalls() - runsAtStart;
        measuredRows += model.totalRows() - rowsAtStart;
      }
    }

    /**
     * The engine's busy fraction: the time its calls cost (the fake engine spins exactly its cost)
     * over the wall time of the measurement iterations.
     */
    static double engineBusy(long runs, long rows, long wallNanos) {
      double busy = runs * (double) CALL_COST.toNanos() + rows * (double) ROW_COST.toNanos();
      return wallNanos <= 0 ? 0 : busy / wallNanos;
    }

    @TearDown(Level.Trial)
    public void stop(BenchmarkParams params) {
      BenchModels.logBatches(params.getBenchmark(), params.getMode().shortLabel(),
          params.getThreads(), "mode=" + mode, measuredRuns, measuredRows,
          engineBusy(measuredRuns, measuredRows, measuredNanos));
      server.close();
    }
  }

  @Benchmark
  @Threads(1)
  public InferenceResult callers001(Served s) {
    return s.server.infer(s.request);
  }

  @Benchmark
  @Threads(8)
  public InferenceResult callers008(Served s) {
    return s.server.infer(s.request);
  }

  @Benchmark
  @Threads(32)
  public InferenceResult callers032(Served s) {
    return s.server.infer(s.request);
  }

  @Benchmark
  @Threads(128)
  public InferenceResult callers128(Served s) {
    return s.server.infer(s.request);
  }
}
