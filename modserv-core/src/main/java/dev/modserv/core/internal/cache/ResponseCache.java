package dev.modserv.core.internal.cache;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.api.Timings;
import dev.modserv.core.ServingMetrics;
import dev.modserv.core.ServingMetrics.CacheMetrics;
import dev.modserv.core.Ticker;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The server's response cache: answers of models that turned it on ({@code
 * ModelConfig.responseCache}), keyed by {@link ResponseKey} (model, exact version and load, exact
 * request), in one Caffeine {@link AsyncCache} bounded by bytes across all models.
 *
 * <p>A request whose key is present is answered from the cache, without queue or engine, its
 * timings marked {@link Timings#cached()}. Of identical requests that miss at the same time, the
 * first runs the engine and the others wait for its answer: the cache holds the answer's future
 * from the moment the first one missed. A failed answer is never kept (Caffeine drops a future
 * that completes exceptionally). The cache keeps its own heap copy of an answer's tensors, and
 * tensors are immutable (readers get read-only views or copies), so no caller can change what
 * another is served.
 *
 * <p>Maintenance (eviction, removal) runs on the threads that use the cache: it starts no thread
 * of its own.
 */
public final class ResponseCache {
  /** The {@code cache} tag of this cache's meters. */
  public static final String NAME = "response";
  /** Bytes an entry costs beyond its key and tensors (objects, maps, the future): an estimate. */
  private static final int ENTRY_OVERHEAD = 256;

  private final @Nullable AsyncCache<ResponseKey, InferenceResult> cache;
  private final long maxBytes;
  private final ServingMetrics metrics;
  private final Ticker ticker;
  private final ConcurrentMap<String, CacheMetrics> byModel = new ConcurrentHashMap<>();

  /** A cache of at most {@code maxBytes} bytes; 0 turns it off for every model. */
  public ResponseCache(long maxBytes, ServingMetrics metrics, Ticker ticker) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("the response cache's bound must be >= 0: " + maxBytes);
    }
    this.maxBytes = maxBytes;
    this.metrics = metrics;
    this.ticker = ticker;
    this.cache = maxBytes == 0 ? null : Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher(ResponseCache::weigh)
        .executor(Runnable::run)
        .evictionListener((@Nullable ResponseKey key, @Nullable InferenceResult value,
            RemovalCause cause) -> {
          if (key != null && cause.wasEvicted()) {
            metricsOf(key.model()).evictions(1);
          }
        })
        .buildAsync();
  }

  /** Returns whether the cache holds anything ever: false when its bound is 0. */
  public boolean isOn() {
    return cache != null;
  }

  /**
   * Answers {@code request} to {@code model} version {@code version}, load {@code load}, from the
   * cache, or runs it through {@code run} and keeps the answer. When the answer comes from the
   * cache or from an identical request in flight, {@code run} is not called and {@code notRun} is,
   * at once (it gives back what the caller held for running it, its lease on the version).
   */
  public CompletableFuture<InferenceResult> serve(String model, long version, long load,
      InferenceRequest request, long submittedNanos,
      Supplier<CompletableFuture<InferenceResult>> run, Runnable notRun) {
    AsyncCache<ResponseKey, InferenceResult> c = cache;
    if (c == null) {
      return run.get();
    }
    ResponseKey key;
    try {
      key = ResponseKey.of(model, version, load, request);
    } catch (IllegalArgumentException tooLarge) {
      return run.get();
    }
    CompletableFuture<InferenceResult> mine = new CompletableFuture<>();
    // The mapping function only hands over an empty future: the engine never runs inside the
    // cache's compute, which holds a lock of its map.
    CompletableFuture<InferenceResult> found = c.get(key, (k, executor) -> mine);
    while (found != mine && found.isCompletedExceptionally()) {
      // A failure that Caffeine has not dropped yet belongs to requests that were in flight with
      // it, not to this later one.
      c.asMap().remove(key, found);
      found = c.get(key, (k, executor) -> mine);
    }
    CacheMetrics m = metricsOf(model);
    if (found != mine) {
      m.hits(1);
      notRun.run();
      return found.handle((r, failure) -> {
        if (failure != null) {
          throw new CompletionException(cause(failure));
        }
        return new InferenceResult(r.model(), r.version(), r.outputs(),
            Timings.cached(Duration.ofNanos(Math.max(0, ticker.read() - submittedNanos))));
      });
    }
    m.misses(1);
    CompletableFuture<InferenceResult> answer;
    try {
      answer = run.get();
    } catch (RuntimeException | Error e) {
      mine.completeExceptionally(e);
      throw e;
    }
    answer.whenComplete((result, failure) -> {
      if (failure != null) {
        c.asMap().remove(key, mine);
        mine.completeExceptionally(new Failed(failure));
      } else {
        try {
          mine.complete(detached(result));
        } catch (RuntimeException e) {
          mine.completeExceptionally(e);
        }
      }
    });
    return answer;
  }

  /**
   * A failed answer, as the cache's future holds it: a cancellation, which Caffeine drops without
   * logging (it logs every other failure of a future as a warning, and a request's failure is the
   * caller's to report). Requests that waited for it get {@link #getCause()}.
   */
  private static final class Failed extends CancellationException {
    private static final long serialVersionUID = 1L;

    Failed(Throwable failure) {
      super("the identical request this one waited for failed: " + failure);
      initCause(failure);
    }
  }

  private static Throwable cause(Throwable failure) {
    Throwable t = failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    return t instanceof Failed && t.getCause() != null ? t.getCause() : t;
  }

  /**
   * Drops every entry of load {@code load} (a version that unloaded): they could never be served
   * again, since a version loaded again gets a new load number, but they would hold bytes.
   */
  public void dropLoad(long load) {
    AsyncCache<ResponseKey, InferenceResult> c = cache;
    if (c != null) {
      c.asMap().keySet().removeIf(k -> k.load() == load);
    }
  }

  /** The bound in bytes; 0 when the cache is off. */
  public long maxBytes() {
    return maxBytes;
  }

  /** Runs pending maintenance and returns the bytes the cache holds, by Caffeine's weighing. */
  public long weightedSize() {
    AsyncCache<ResponseKey, InferenceResult> c = cache;
    if (c == null) {
      return 0;
    }
    c.synchronous().cleanUp();
    return c.synchronous().policy().eviction().orElseThrow().weightedSize().orElse(0);
  }

  /** The bytes held for {@code model}: what its size gauge shows. */
  long bytesOf(String model) {
    AsyncCache<ResponseKey, InferenceResult> c = cache;
    if (c == null) {
      return 0;
    }
    c.synchronous().cleanUp();
    long sum = 0;
    for (Map.Entry<ResponseKey, CompletableFuture<InferenceResult>> e : c.asMap().entrySet()) {
      CompletableFuture<InferenceResult> f = e.getValue();
      if (e.getKey().model().equals(model) && f.isDone() && !f.isCompletedExceptionally()) {
        sum += weigh(e.getKey(), f.join());
      }
    }
    return sum;
  }

  private CacheMetrics metricsOf(String model) {
    CacheMetrics m = byModel.get(model);
    if (m != null) {
      return m;
    }
    return byModel.computeIfAbsent(model, name -> {
      CacheMetrics created = metrics.cache(NAME, name);
      created.size(() -> bytesOf(name));
      return created;
    });
  }

  /** An entry's weight: its key's bytes, its tensors' bytes and an estimate of the objects. */
  static int weigh(ResponseKey key, InferenceResult result) {
    long bytes = ENTRY_OVERHEAD + key.bytes();
    for (Map.Entry<String, Tensor> e : result.outputs().entrySet()) {
      bytes += 2L * e.getKey().length() + tensorBytes(e.getValue());
    }
    return (int) Math.min(Integer.MAX_VALUE, bytes);
  }

  private static long tensorBytes(Tensor t) {
    if (t.dataType().isFixedSize()) {
      return (long) t.elementCount() * t.dataType().byteSize();
    }
    long bytes = 0;
    for (String s : t.strings()) {
      bytes += 16 + 2L * s.length();
    }
    return bytes;
  }

  /**
   * A copy of {@code result} whose tensors live on the heap, owned by the cache: an engine may
   * hand out views of buffers it reuses or frees when its model closes.
   */
  private static InferenceResult detached(InferenceResult result) {
    Map<String, Tensor> outputs = new LinkedHashMap<>();
    result.outputs().forEach((name, t) -> outputs.put(name, copy(t)));
    return new InferenceResult(result.model(), result.version(), outputs, result.timings());
  }

  private static Tensor copy(Tensor t) {
    if (!t.dataType().isFixedSize()) {
      return Tensor.of(t.toStringArray(), t.shape());
    }
    ByteBuffer source = t.toByteBuffer();
    ByteBuffer heap = ByteBuffer.allocate(source.remaining()).order(ByteOrder.nativeOrder());
    heap.put(source.duplicate().order(source.order())).flip();
    return Tensor.wrap(t.dataType(), heap, t.shape());
  }
}
