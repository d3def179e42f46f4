package dev.modserv.core.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.ServingMetrics;
import dev.modserv.core.ServingMetrics.Outcome;
import dev.modserv.core.Ticker;
import dev.modserv.core.internal.cache.ResponseCache;
import io.micrometer.observation.Observation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The request path from a submitted request to a version's batcher or generation scheduler:
 * deadline ({@link Deadline}, one rule), lease on a resolved version ({@link ModelTable#acquire}),
 * load on demand when the version is registered but not loaded, validation, queue. The lease is
 * released (through the {@link ModelCache}, which tracks idleness) when the request completes.
 */
final class RequestPath {
  /**
   * How many times one request may load its version: more than once, because a keep-alive of 0
   * can unload the version a load made between that load and this request's turn.
   */
  private static final int LOADS_PER_REQUEST = 3;

  private final ModelTable table;
  private final ModelCache cache;
  private final OnDemandLoader onDemand;
  private final ResponseCache responses;
  private final Ticker ticker;
  private final @Nullable Duration serverTimeout;
  private final EmbeddingCache embeddings;
  private final ServingMetrics metrics;
  private final Tracing tracing;

  RequestPath(ModelTable table, ModelCache cache, OnDemandLoader onDemand,
      ResponseCache responses, EmbeddingCache embeddings, Ticker ticker,
      @Nullable Duration serverTimeout, ServingMetrics metrics, Tracing tracing) {
    this.metrics = metrics;
    this.tracing = tracing;
    this.table = table;
    this.cache = cache;
    this.onDemand = onDemand;
    this.responses = responses;
    this.ticker = ticker;
    this.serverTimeout = serverTimeout;
    this.embeddings = embeddings;
  }

  /** The deadline of a request for {@code ref}: the one place the rule is applied. */
  Deadline deadline(ModelRef ref, Optional<Duration> own, long submittedNanos) {
    return Deadline.of(own, table.config(ref.name()), serverTimeout, submittedNanos);
  }

  /** See {@link Registry#ensureLoaded}. */
  CompletableFuture<Void> ensureLoaded(ModelRef ref) {
    ModelVersion v;
    try {
      v = table.acquire(ref);
    } catch (ModelServingException notServable) {
      ModelEntry entry = table.get(ref.name());
      CompletableFuture<ModelStatus> loading = entry == null ? null
          : onDemand.awaitLoad(entry, ref);
      if (entry == null || loading == null) {
        return CompletableFuture.failedFuture(notServable);
      }
      return loading.handle((status, failure) -> {
        onDemand.stopsAwaiting(entry);
        if (failure != null) {
          throw new java.util.concurrent.CompletionException(failure);
        }
        return null;
      });
    }
    cache.released(v);
    return CompletableFuture.completedFuture(null);
  }

  /** See {@link Registry#submit}. */
  CompletableFuture<InferenceResult> submit(InferenceRequest request, long submittedNanos,
      Caller caller) {
    Deadline deadline = deadline(request.model(), request.timeout(), submittedNanos);
    CompletableFuture<InferenceResult> result = submit(request, submittedNanos, deadline,
        LOADS_PER_REQUEST, caller, tracing.parent());
    if (result.isDone() && !result.isCompletedExceptionally()) {
      return result;   // a cache hit: no callback to allocate
    }
    String model = request.model().name();
    result.whenComplete((r, failure) -> {
      if (failure != null) {
        ErrorCode code = ModelServingException.find(failure).map(ModelServingException::code)
            .orElse(ErrorCode.BACKEND_ERROR);
        // A name the server does not know is the client's: as a tag it could grow without bound.
        metrics.error(code == ErrorCode.MODEL_NOT_FOUND ? "" : model, code);
      }
    });
    return result;
  }

  private CompletableFuture<InferenceResult> submit(InferenceRequest request, long submittedNanos,
      Deadline deadline, int loadsLeft, Caller caller, @Nullable Observation parent) {
    ModelVersion v;
    try {
      v = table.acquire(request.model());
    } catch (ModelServingException notServable) {
      ModelEntry entry = table.get(request.model().name());
      CompletableFuture<ModelStatus> loading = entry == null || loadsLeft <= 0 ? null
          : onDemand.awaitLoad(entry, request.model());
      if (entry == null || loading == null) {
        return CompletableFuture.failedFuture(notServable);
      }
      return onDemand.afterLoad(entry, loading, request.model(), deadline,
          () -> submit(request, submittedNanos, deadline, loadsLeft - 1, Caller.ASYNC, parent));
    }
    return queue(v, request, submittedNanos, deadline, caller, parent);
  }

  /**
   * Validates {@code request} against the leased version {@code v} and queues it, or answers it
   * from the response cache when the model keeps one.
   */
  private CompletableFuture<InferenceResult> queue(ModelVersion v, InferenceRequest request,
      long submittedNanos, Deadline deadline, Caller caller, @Nullable Observation parent) {
    Batcher batcher = v.batcher();
    int level;
    try {
      ModelMetadata metadata = request.parameters().isEmpty() ? v.metadata()
          : metadataFor(v, request.parameters());
      InputValidator.validate(v.name, metadata, request.inputs(), request.outputs(),
          v.config.rejectNaN());
      InputValidator.checkSize(v.name, request.inputs(), v.config.maxElements(),
          v.config.maxTextBytes());
      level = batcher.levelOf(request.priority(), request.rows());
    } catch (ModelServingException invalid) {
      cache.released(v);
      v.metrics.request(Outcome.ERROR, ticker.read() - submittedNanos);
      return CompletableFuture.failedFuture(invalid);
    }
    int priorityLevel = level;
    Supplier<CompletableFuture<InferenceResult>> enqueue = () -> {
      Call call = new Call(request, submittedNanos, deadline.nanos(), priorityLevel,
          () -> cache.released(v));
      call.spans = tracing.call(v.name, v.version, parent);
      return embeddings.submit(v, call, caller);
    };
    return v.config.responseCache() ? responses.serve(v.name, v.version, v.load, request,
        submittedNanos, enqueue, () -> cache.released(v)) : enqueue.get();
  }

  private static ModelMetadata metadataFor(ModelVersion v, Map<String, String> parameters) {
    try {
      return v.model().metadata(parameters);
    } catch (ModelServingException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT, "'" + v.name + "' version "
          + v.version + " refused the request parameters " + parameters + ": " + e.getMessage(),
          e);
    }
  }

  /** See {@link Registry#generate}. */
  Generation generate(GenerationRequest request, long submittedNanos) {
    Deadline deadline = deadline(request.model(), request.timeout(), submittedNanos);
    GenerationCall call = new GenerationCall(request, submittedNanos, deadline.nanos(), ticker);
    call.countErrorsIn(metrics);
    call.span = tracing.generation(request.model().name(), tracing.parent());
    Generation stream = new Generation(call);
    startGeneration(call, true);
    return stream;
  }

  private void startGeneration(GenerationCall call, boolean mayLoad) {
    ModelRef ref = call.request.model();
    ModelVersion v;
    try {
      v = table.acquire(ref);
    } catch (ModelServingException notServable) {
      ModelEntry entry = mayLoad ? table.get(ref.name()) : null;
      CompletableFuture<ModelStatus> loading = entry == null ? null
          : onDemand.awaitLoad(entry, ref);
      if (entry == null || loading == null) {
        call.failNow(notServable);
      } else {
        loading.whenComplete((status, failure) -> startAfterLoad(entry, call, failure));
      }
      return;
    }
    GenerationScheduler generations = v.generationsOrNull();
    if (generations == null) {
      cache.released(v);
      call.failNow(new ModelServingException(ErrorCode.INVALID_INPUT, "'" + v.name
          + "' version " + v.version + " does not generate text (it has no GENERATIVE"
          + " capability)"));
      return;
    }
    try {
      InputValidator.checkText(v.name, texts(call.request), v.config.maxTextBytes());
    } catch (ModelServingException tooLarge) {
      cache.released(v);
      call.failNow(tooLarge);
      return;
    }
    Runnable onDone = () -> {
      generations.done(call);
      cache.released(v);
    };
    if (call.bind(v.metrics, v.version, onDone)) {
      generations.submit(call);
    } else {
      cache.released(v);
    }
  }

  private static List<String> texts(GenerationRequest request) {
    List<String> texts = new ArrayList<>();
    request.prompt().ifPresent(texts::add);
    request.messages().forEach(m -> texts.add(m.content()));
    return texts;
  }

  /** Starts {@code call} once the load it waited for ended; its deadline runs meanwhile. */
  private void startAfterLoad(ModelEntry entry, GenerationCall call, @Nullable Throwable failure) {
    try {
      if (failure != null) {
        call.failNow(ModelServingException.find(failure).orElseGet(() ->
            new ModelServingException(ErrorCode.LOAD_FAILED, String.valueOf(failure), failure)));
      } else if (!call.isDone()) {
        startGeneration(call, false);
      }
    } finally {
      onDemand.stopsAwaiting(entry);
    }
  }

  /** Returns a stream that already failed with {@code error}. */
  Generation refused(GenerationRequest request, long submittedNanos,
      ModelServingException error) {
    GenerationCall call = new GenerationCall(request, submittedNanos, Long.MAX_VALUE, ticker);
    call.countErrorsIn(metrics);
    call.failNow(error);
    return new Generation(call);
  }
}
