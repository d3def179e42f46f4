package dev.modserv.benchmarks;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelServer;
import dev.modserv.core.ServingMetrics;
import dev.modserv.testkit.FakeBackend;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
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

/**
 * What metrics cost on the request path when many threads call one model at once (issue 17), on
 * the zero-cost fake engine with 16 instances and one row per batch, so that every call runs its
 * own batch on its own thread and nothing but the server's per-request work is shared:
 *
 * <ul>
 *   <li>{@link #infer}: {@code server.infer} from 16 threads, with the metrics {@code off} (no
 *       registry) or into a {@code prometheus} registry as the HTTP adapter gives the server: the
 *       difference is what recording costs under contention;
 *   <li>{@link #record}: the meters alone, what one successful request records ({@code
 *       modserv.requests}, {@code modserv.request.latency}, {@code modserv.queue.wait}, {@code
 *       modserv.batch.size}, {@code modserv.inference.latency}), from 16 threads;
 *   <li>{@link #error}: what one refused request records ({@code modserv.errors}, here {@code
 *       QUEUE_FULL}, as an overloaded server records it for every request it turns away).
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Threads(16)
public class MetricsContentionBenchmark {
  /** A server with the zero-cost model loaded, 16 instances, metrics off or into Prometheus. */
  @State(Scope.Benchmark)
  public static class Served {
    @Param({"off", "prometheus"})
    public String metrics = "prometheus";

    ModelServer server;
    InferenceRequest request;

    @Setup(Level.Trial)
    public void start() {
      FakeBackend backend = FakeBackend.create();
      ModelServer.Builder builder = ModelServer.builder().backend(backend)
          .discoverBackends(false);
      if (metrics.equals("prometheus")) {
        builder.meterRegistry(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
      }
      server = builder.build();
      BenchModels.load(server, backend, BatchingPolicy.builder().maxBatchSize(1)
          .maxQueueSize(1024).instances(16).build());
      request = BenchModels.request(BenchModels.singleRow());
    }

    @TearDown(Level.Trial)
    public void stop() {
      server.close();
    }
  }

  /** One model version's meters in a Prometheus registry. */
  @State(Scope.Benchmark)
  public static class Meters {
    ServingMetrics metrics;
    ServingMetrics.VersionMetrics version;

    @Setup(Level.Trial)
    public void start() {
      metrics = ServingMetrics.micrometer(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
      version = metrics.version(BenchModels.MODEL, 1);
      version.queueDepth(() -> 0);
    }
  }

  @Benchmark
  public InferenceResult infer(Served s) {
    return s.server.infer(s.request);
  }

  @Benchmark
  public void error(Meters m) {
    m.metrics.error(BenchModels.MODEL, ErrorCode.QUEUE_FULL);
  }

  @Benchmark
  public void record(Meters m) {
    ServingMetrics.VersionMetrics v = m.version;
    v.queueWait(1_500);
    v.batch(1, 2_000);
    v.request(ServingMetrics.Outcome.SUCCESS, 4_000);
  }
}
