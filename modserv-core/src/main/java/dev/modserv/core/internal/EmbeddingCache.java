package dev.modserv.core.internal;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.modserv.api.Capability;
import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.Timings;
import dev.modserv.core.ServingMetrics;
import dev.modserv.core.ServingMetrics.CacheMetrics;
import dev.modserv.core.ServingMetrics.Outcome;
import dev.modserv.core.Ticker;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * The per-text embedding cache: for a version of an {@link Capability#EMBEDDING} model whose
 * configuration turns it on, a request's texts that this very version has embedded before are
 * answered from here, and only the others go to the version's batcher, as one smaller request.
 * The answer is assembled in the request's order, with the token counts cached beside the vectors.
 *
 * <p>A key is the version's identity (a number given to each loaded {@link ModelVersion} object,
 * so a version reloaded under the same number starts empty), the request parameters and the
 * text. Values are futures in a Caffeine {@link AsyncCache} bounded by bytes across all models:
 * the first request to miss a text puts its future in, and identical concurrent requests wait
 * for it instead of running the model again. A failed run removes its futures, so failures are
 * never cached; a request that waited for another's failed run runs the text itself, once. Cached
 * vectors are never handed out: every answer is a fresh copy.
 */
final class EmbeddingCache {
  /** The {@code cache} tag of its meters. */
  static final String NAME = "embedding";

  /** Per entry beyond its vector and text: key, value, future and Caffeine's node, roughly. */
  private static final int ENTRY_OVERHEAD_BYTES = 160;
  /** How often a request runs texts again whose run by another request failed. */
  private static final int RETRIES = 1;
  private static final Set<String> CACHEABLE_OUTPUTS =
      Set.of(Capability.EMBEDDING_OUTPUT, Capability.EMBEDDING_TOKENS);

  private final AsyncCache<Key, Embedded> entries;
  private final ConcurrentMap<Key, CompletableFuture<Embedded>> map;
  private final ConcurrentMap<String, CacheMetrics> counts = new ConcurrentHashMap<>();
  private final ServingMetrics metrics;
  private final Ticker ticker;

  EmbeddingCache(long maxBytes, ServingMetrics metrics, Ticker ticker) {
    this.metrics = metrics;
    this.ticker = ticker;
    this.entries = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((Key k, Embedded e) -> e.weight(k))
        .evictionListener((@Nullable Key k, @Nullable Embedded e, RemovalCause cause) -> {
          if (k != null && cause.wasEvicted()) {
            countsOf(k.model).evictions(1);
          }
        })
        .executor(Runnable::run)
        .buildAsync();
    this.map = entries.asMap();
  }

  /** A vector and the tokens its text took (-1 when the model does not count them). */
  private record Embedded(float[] vector, long tokens) {
    int weight(Key key) {
      return ENTRY_OVERHEAD_BYTES + 4 * vector.length + 2 * key.text.length();
    }
  }

  /** One text of one version, with the request parameters that may change its vector. */
  private record Key(long load, String model, Map<String, String> parameters, String text) {}

  /**
   * Drops every text of load {@code load} (a version that closed): they could never be served
   * again, since a version loaded again gets a new load number, but they would hold bytes.
   */
  void dropLoad(long load) {
    map.keySet().removeIf(k -> k.load == load);
  }

  /** One model's cache meters (tag {@code cache=embedding}), bound on first use. */
  private CacheMetrics countsOf(String model) {
    CacheMetrics m = counts.get(model);
    if (m != null) {
      return m;
    }
    return counts.computeIfAbsent(model, name -> {
      CacheMetrics created = metrics.cache(NAME, name);
      created.size(() -> bytesOf(name));
      return created;
    });
  }

  /** The bytes the cache holds for {@code model} (an estimate: vectors, texts and overhead). */
  private long bytesOf(String model) {
    long sum = 0;
    for (Map.Entry<Key, Embedded> e : entries.synchronous().asMap().entrySet()) {
      if (e.getKey().model.equals(model)) {
        sum += e.getValue().weight(e.getKey());
      }
    }
    return sum;
  }

  /**
   * Queues {@code call} on the leased version {@code v}: through the cache when {@code v} caches
   * embeddings and the call is a plain embedding request, else straight to its batcher. Either way
   * the call's lease is released once, before its answer is given.
   */
  CompletableFuture<InferenceResult> submit(ModelVersion v, Call call, Caller caller) {
    if (!applies(v, call.request)) {
      v.batcher().submit(call, caller);
      return call.future;
    }
    String[] texts = java.util.Objects.requireNonNull(
        call.request.inputs().get(Capability.EMBEDDING_INPUT)).toStringArray();
    long id = v.load;
    Key[] keys = new Key[texts.length];
    for (int i = 0; i < texts.length; i++) {
      keys[i] = new Key(id, v.name, call.request.parameters(), texts[i]);
    }
    CompletableFuture<InferenceResult> answer = new CompletableFuture<>();
    AtomicBoolean ran = new AtomicBoolean();
    lookUp(v, call, keys, RETRIES, caller, ran).whenComplete((vectors, failure) -> {
      InferenceResult result = null;
      Throwable error = failure;
      if (failure == null) {
        try {
          result = assemble(v, call, vectors);
        } catch (RuntimeException e) {
          error = e;
        }
      }
      if (!ran.get()) {
        // Nothing of this request went through the batcher, which records the others.
        v.metrics.request(error == null ? Outcome.SUCCESS : Outcome.ERROR,
            ticker.read() - call.submittedNanos);
        Tracing.CallSpans spans = call.spans;
        if (spans != null) {
          spans.done(error == null ? Outcome.SUCCESS : Outcome.ERROR, error);
        }
      }
      // The lease goes first, as the batcher does: once a caller sees its answer, the version is
      // no longer in use by it.
      try {
        call.release.run();
      } finally {
        if (error != null) {
          answer.completeExceptionally(unwrap(error));
        } else {
          answer.complete(result);
        }
      }
    });
    return answer;
  }

  private static boolean applies(ModelVersion v, InferenceRequest request) {
    if (!v.config.embeddingCache() || request.inputs().size() != 1
        || !CACHEABLE_OUTPUTS.containsAll(request.outputs())
        || !v.metadata().capabilities().contains(Capability.EMBEDDING)) {
      return false;
    }
    Tensor text = request.inputs().get(Capability.EMBEDDING_INPUT);
    return text != null && text.dataType() == DataType.STRING && text.rank() == 1;
  }

  /**
   * Returns the embedding of each key, in order: from the cache, from runs other requests have
   * under way, and from one run of this request's own misses (each distinct text once).
   */
  private CompletableFuture<Embedded[]> lookUp(ModelVersion v, Call call, Key[] keys,
      int retriesLeft, Caller caller, AtomicBoolean ran) {
    CacheMetrics c = countsOf(v.name);
    List<CompletableFuture<Embedded>> slots = new ArrayList<>(keys.length);
    Map<Key, CompletableFuture<Embedded>> own = new LinkedHashMap<>();
    for (Key key : keys) {
      CompletableFuture<Embedded> mine = own.get(key);
      if (mine == null) {
        CompletableFuture<Embedded> fresh = new CompletableFuture<>();
        CompletableFuture<Embedded> there = map.putIfAbsent(key, fresh);
        if (there == null) {
          own.put(key, fresh);
          mine = fresh;
          c.misses(1);
        } else {
          mine = there;
          c.hits(1);
        }
      } else {
        c.hits(1);
      }
      slots.add(mine);
    }
    CompletableFuture<Void> ownRun = own.isEmpty() ? CompletableFuture.completedFuture(null)
        : run(v, call, own, caller, ran);
    return CompletableFuture.allOf(slots.toArray(CompletableFuture[]::new))
        .handle((ignored, failure) -> failure)
        .thenCombine(ownRun.handle((ignored, failure) -> failure), (any, mineFailed) -> mineFailed)
        .thenCompose(mineFailed -> {
          if (mineFailed != null) {
            return CompletableFuture.failedFuture(mineFailed);
          }
          return collect(v, call, keys, slots, retriesLeft, ran);
        });
  }

  /** Gathers the slots' embeddings; texts whose run by another request failed run again here. */
  private CompletableFuture<Embedded[]> collect(ModelVersion v, Call call, Key[] keys,
      List<CompletableFuture<Embedded>> slots, int retriesLeft, AtomicBoolean ran) {
    Embedded[] out = new Embedded[keys.length];
    List<Integer> failed = new ArrayList<>();
    for (int i = 0; i < keys.length; i++) {
      CompletableFuture<Embedded> slot = slots.get(i);
      if (slot.isCompletedExceptionally()) {
        failed.add(i);
      } else {
        out[i] = slot.join();
      }
    }
    if (failed.isEmpty()) {
      return CompletableFuture.completedFuture(out);
    }
    if (retriesLeft <= 0) {
      return CompletableFuture.failedFuture(new ModelServingException(ErrorCode.BACKEND_ERROR,
          "'" + v.name + "' version " + v.version + " failed to embed " + failed.size()
              + " text(s) in other requests' runs, twice; retry the request"));
    }
    Key[] again = failed.stream().map(i -> keys[i]).toArray(Key[]::new);
    return lookUp(v, call, again, retriesLeft - 1, Caller.ASYNC, ran).thenApply(redone -> {
      for (int j = 0; j < redone.length; j++) {
        out[failed.get(j)] = redone[j];
      }
      return out;
    });
  }

  /**
   * Runs the texts of {@code own} as one request through the version's batcher and completes
   * their futures: with a copy of each row, or, on failure, exceptionally after taking them out
   * of the cache.
   */
  private CompletableFuture<Void> run(ModelVersion v, Call call,
      Map<Key, CompletableFuture<Embedded>> own, Caller caller, AtomicBoolean ran) {
    ran.set(true);
    String[] texts = own.keySet().stream().map(Key::text).toArray(String[]::new);
    InferenceRequest.Builder b = InferenceRequest.builder(call.request.model())
        .input(Capability.EMBEDDING_INPUT, Tensor.of(texts, texts.length))
        .priority(call.request.priority());
    call.request.parameters().forEach(b::parameter);
    call.request.timeout().ifPresent(b::timeout);
    Call misses = new Call(b.build(), call.submittedNanos, call.deadlineNanos, call.level,
        () -> { });
    misses.spans = call.spans;   // the batcher ends them
    v.batcher().submit(misses, caller);
    return misses.future.handle((result, failure) -> {
      List<Map.Entry<Key, CompletableFuture<Embedded>>> slots = new ArrayList<>(own.entrySet());
      Throwable error = failure;
      if (error == null) {
        try {
          Embedded[] rows = split(result, texts.length);
          for (int i = 0; i < rows.length; i++) {
            slots.get(i).getValue().complete(rows[i]);
          }
          return null;
        } catch (RuntimeException e) {
          error = e;
        }
      }
      // Out of the cache first; cancelled rather than failed, which Caffeine would log as a
      // failed load. Requests that waited for them run those texts themselves (collect).
      for (Map.Entry<Key, CompletableFuture<Embedded>> slot : slots) {
        map.remove(slot.getKey(), slot.getValue());
        slot.getValue().cancel(false);
      }
      throw new CompletionException(unwrap(error));
    });
  }

  /** Copies each row's vector and token count out of the model's answer. */
  private static Embedded[] split(InferenceResult result, int rows) {
    Tensor vectors = result.requireOutput(Capability.EMBEDDING_OUTPUT);
    long[] tokens = result.output(Capability.EMBEDDING_TOKENS).map(Tensor::toLongArray)
        .orElse(null);
    int dims = Math.toIntExact(vectors.dim(1));
    FloatBuffer all = vectors.floatBuffer();
    Embedded[] out = new Embedded[rows];
    for (int i = 0; i < rows; i++) {
      float[] vector = new float[dims];
      all.get(i * dims, vector);
      out[i] = new Embedded(vector, tokens == null ? -1 : tokens[i]);
    }
    return out;
  }

  /** The answer to {@code call}: its vectors (copies) and token counts, in its order. */
  private InferenceResult assemble(ModelVersion v, Call call, Embedded[] rows) {
    int dims = rows[0].vector.length;
    float[] flat = new float[rows.length * dims];
    long[] tokens = new long[rows.length];
    boolean counted = true;
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i].vector, 0, flat, i * dims, dims);
      tokens[i] = rows[i].tokens;
      counted &= rows[i].tokens >= 0;
    }
    Set<String> asked = call.request.outputs();
    Map<String, Tensor> outputs = new LinkedHashMap<>();
    if (asked.isEmpty() || asked.contains(Capability.EMBEDDING_OUTPUT)) {
      outputs.put(Capability.EMBEDDING_OUTPUT, Tensor.of(flat, rows.length, dims));
    }
    if (counted && (asked.isEmpty() || asked.contains(Capability.EMBEDDING_TOKENS))) {
      outputs.put(Capability.EMBEDDING_TOKENS, Tensor.of(tokens, rows.length));
    }
    long total = ticker.read() - call.submittedNanos;
    return new InferenceResult(v.name, v.version, outputs,
        new Timings(Duration.ZERO, Duration.ZERO, Duration.ofNanos(Math.max(0, total))));
  }

  private static Throwable unwrap(Throwable t) {
    Throwable cause = t;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return ModelServingException.find(cause).<Throwable>map(e -> e).orElse(cause);
  }
}
