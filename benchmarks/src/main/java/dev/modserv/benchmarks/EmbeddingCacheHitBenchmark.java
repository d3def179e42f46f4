package dev.modserv.benchmarks;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.modserv.api.Capability;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
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
 * The embedding cache's hit path against a plain map lookup, in process, one caller: a request of
 * 32 texts that the int8 MiniLM ({@link EmbeddingCacheBench#CACHED}, cache on) has all embedded
 * before.
 *
 * <ul>
 *   <li>{@link #hitInferAsync}: {@code server.inferAsync(request).join()}: the request path (lease
 *       on the version, 32 keys looked up in Caffeine, futures, meters) and the answer, one flat
 *       {@code float[32 * 384]} assembled from copies;
 *   <li>{@link #hitEmbed}: {@code server.embed(model, texts)}: the same plus the request built
 *       from the list and the answer split into {@code float[32][384]};
 *   <li>{@link #mapLookupCopy}: 32 {@code ConcurrentHashMap<String, float[]>} lookups of the same
 *       texts, each vector copied into one flat {@code float[32 * 384]}: the least a cache can do;
 *   <li>{@link #caffeineLookupCopy}: the same with a Caffeine {@code Cache<String, float[]>}: what
 *       the bounded cache itself costs over the map.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
public class EmbeddingCacheHitBenchmark {
  private static final List<String> TEXTS =
      EmbeddingCacheBench.pool().subList(0, EmbeddingCacheBench.TEXTS);

  /** The server, with every text of the request already cached. */
  @State(Scope.Benchmark)
  public static class Served {
    ModelServer server;
    InferenceRequest request;

    @Setup(Level.Trial)
    public void start() {
      server = EmbeddingCacheBench.serve(new SimpleMeterRegistry());
      server.embed(EmbeddingCacheBench.CACHED, TEXTS);
      request = InferenceRequest.builder(EmbeddingCacheBench.CACHED)
          .input(Capability.EMBEDDING_INPUT, Tensor.of(TEXTS.toArray(String[]::new), TEXTS.size()))
          .build();
    }

    @TearDown(Level.Trial)
    public void stop() {
      server.close();
    }
  }

  /** The same texts' vectors in a plain map and in a Caffeine cache. */
  @State(Scope.Benchmark)
  public static class Maps {
    final ConcurrentHashMap<String, float[]> map = new ConcurrentHashMap<>();
    final Cache<String, float[]> caffeine = Caffeine.newBuilder().maximumSize(100_000).build();
    String[] texts;
    int dimensions;

    @Setup(Level.Trial)
    public void fill() {
      float[][] vectors;
      try (ModelServer server = EmbeddingCacheBench.serve(new SimpleMeterRegistry())) {
        vectors = server.embed(EmbeddingCacheBench.PLAIN, TEXTS);
      }
      // Strings that are equal but not the same objects, as a request's texts would be.
      texts = TEXTS.stream().map(t -> new String(t.toCharArray())).toArray(String[]::new);
      dimensions = vectors[0].length;
      for (int i = 0; i < TEXTS.size(); i++) {
        map.put(TEXTS.get(i), vectors[i]);
        caffeine.put(TEXTS.get(i), vectors[i]);
      }
    }
  }

  @Benchmark
  public InferenceResult hitInferAsync(Served s) {
    return s.server.inferAsync(s.request).join();
  }

  @Benchmark
  public float[][] hitEmbed(Served s) {
    return s.server.embed(EmbeddingCacheBench.CACHED, TEXTS);
  }

  @Benchmark
  public float[] mapLookupCopy(Maps m) {
    float[] flat = new float[m.texts.length * m.dimensions];
    for (int i = 0; i < m.texts.length; i++) {
      System.arraycopy(m.map.get(m.texts[i]), 0, flat, i * m.dimensions, m.dimensions);
    }
    return flat;
  }

  @Benchmark
  public float[] caffeineLookupCopy(Maps m) {
    float[] flat = new float[m.texts.length * m.dimensions];
    for (int i = 0; i < m.texts.length; i++) {
      float[] v = m.caffeine.getIfPresent(m.texts[i]);
      if (v == null) {
        throw new IllegalStateException("not cached: " + m.texts[i]);
      }
      System.arraycopy(v, 0, flat, i * m.dimensions, m.dimensions);
    }
    return flat;
  }
}
