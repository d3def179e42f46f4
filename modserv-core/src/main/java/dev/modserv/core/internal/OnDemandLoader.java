package dev.modserv.core.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.Ticker;
import dev.modserv.spi.ModelSource;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a registered version on its first request (never loaded, or unloaded while idle): the
 * request waits for the load within its deadline; concurrent first requests share one load.
 */
final class OnDemandLoader {
  private static final Logger log = LoggerFactory.getLogger(OnDemandLoader.class);

  private final ModelTable table;
  private final VersionLifecycle lifecycle;
  private final ModelCache cache;
  private final ScheduledExecutorService scheduler;
  private final Ticker ticker;

  OnDemandLoader(ModelTable table, VersionLifecycle lifecycle, ModelCache cache,
      ScheduledExecutorService scheduler, Ticker ticker) {
    this.table = table;
    this.lifecycle = lifecycle;
    this.cache = cache;
    this.scheduler = scheduler;
    this.ticker = ticker;
  }

  /**
   * Starts or joins the load {@code ref} needs, with the caller counted in {@code entry}'s {@link
   * ModelEntry#awaitingLoad} (before the load can finish, so that no answer in between lets the
   * version go); the caller calls {@link #stopsAwaiting} once it holds a version or has failed.
   * Returns null, counting nothing, when no registered version can be loaded.
   */
  @Nullable CompletableFuture<ModelStatus> awaitLoad(ModelEntry entry, ModelRef ref) {
    entry.awaitingLoad.incrementAndGet();
    CompletableFuture<ModelStatus> loading;
    try {
      loading = loadOnDemand(ref);
    } catch (RuntimeException failed) {
      stopsAwaiting(entry);
      throw failed;
    }
    if (loading == null) {
      stopsAwaiting(entry);
    }
    return loading;
  }

  /** One request no longer waits for a load; the last one lets keep-alive 0 act at once. */
  void stopsAwaiting(ModelEntry entry) {
    if (entry.awaitingLoad.decrementAndGet() == 0 && entry.config.keepAlive().isZero()) {
      cache.evictSoon();
    }
  }

  /**
   * Runs {@code then} once {@code loading} is done and completes with what it gives; fails with
   * the load's failure, or with TIMEOUT at {@code deadline} (the load goes on). The caller counted
   * itself in {@code entry}'s {@link ModelEntry#awaitingLoad}; the count drops once {@code then}
   * returned (it leases a version before it returns) or the load failed.
   */
  <T> CompletableFuture<T> afterLoad(ModelEntry entry, CompletableFuture<ModelStatus> loading,
      ModelRef ref, Deadline deadline, Supplier<CompletableFuture<T>> then) {
    CompletableFuture<T> out = new CompletableFuture<>();
    loading.whenComplete((status, failure) -> {
      if (out.isDone() || failure != null) {
        stopsAwaiting(entry);
        if (failure != null) {
          out.completeExceptionally(ModelServingException.find(failure)
              .map(Throwable.class::cast).orElse(failure));
        }
        return;
      }
      CompletableFuture<T> next;
      try {
        next = then.get();
      } finally {
        stopsAwaiting(entry);
      }
      next.whenComplete((result, error) -> {
        if (error != null) {
          out.completeExceptionally(error);
        } else {
          out.complete(result);
        }
      });
    });
    if (deadline.bounded() && !out.isDone()) {
      long delay = deadline.nanos() - ticker.read();
      long millis = deadline.timeout() == null ? 0 : deadline.timeout().toMillis();
      scheduler.schedule(() -> out.completeExceptionally(new ModelServingException(
          ErrorCode.TIMEOUT, "'" + ref + "' did not load within the request's timeout of "
              + millis + " ms; the load goes on")), Math.max(0, delay), TimeUnit.NANOSECONDS);
    }
    return out;
  }

  /**
   * Starts (or joins) the load of the registered version {@code ref} needs, or returns null when
   * none is registered for it.
   */
  private @Nullable CompletableFuture<ModelStatus> loadOnDemand(ModelRef ref) {
    ModelEntry e = table.get(ref.name());
    if (e == null || table.isClosed()) {
      return null;
    }
    long version;
    ModelSource source;
    ModelVersion v;
    // The sources are read under the entry's lock, where an unload removes them: read outside
    // it, an unload in between would let this load bring a deleted version back.
    synchronized (e) {
      Long target = ModelTable.registeredTarget(e, ref);
      source = target == null ? null : e.sources.get(target);
      if (target == null || source == null || table.isClosed()) {
        return null;
      }
      version = target;
      ModelVersion existing = e.versions.get(version);
      if (existing != null && !refusedForMemory(existing)) {
        return join(e, existing, ref);
      }
      if (existing != null) {
        // Refused for room earlier; models may have unloaded since: try again.
        e.versions.remove(version, existing);
        e.changed();
      }
      v = lifecycle.newVersion(e, version, source);
    }
    log.info("loading '{}' version {} on first use", e.name, version);
    return lifecycle.start(e, v, source);
  }

  private static boolean refusedForMemory(ModelVersion v) {
    return v.state() == ModelState.FAILED && v.failure() instanceof ModelServingException f
        && f.code() == ErrorCode.INSUFFICIENT_MEMORY;
  }

  /** The load to wait for when {@code existing} is listed already. */
  private @Nullable CompletableFuture<ModelStatus> join(ModelEntry e, ModelVersion existing,
      ModelRef ref) {
    return switch (existing.state()) {
      case LOADING, WARMING -> existing.loadFuture;
      case READY -> CompletableFuture.completedFuture(existing.status(Set.of()));
      case DRAINING, UNLOADED -> existing.closedFuture.thenCompose(x -> {
        CompletableFuture<ModelStatus> again = loadOnDemand(ref);
        return again != null ? again : CompletableFuture.failedFuture(ModelTable.shuttingDown(
            "version " + existing.version + " of '" + e.name + "' was unloaded"));
      });
      case FAILED -> null;
    };
  }
}
