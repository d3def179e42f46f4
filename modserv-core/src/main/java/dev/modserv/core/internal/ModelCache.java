package dev.modserv.core.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServerListener;
import dev.modserv.core.ModelState;
import dev.modserv.core.Ticker;
import dev.modserv.spi.Backend;
import dev.modserv.spi.ModelSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model cache: the server's memory budget, least-recently-used eviction of idle versions to
 * make room for a load, and the keep-alive that unloads versions idle for too long. An evicted
 * version goes the ordinary drain-then-close path; a version in use is never evicted, and its
 * bytes come back to the budget only once its model has closed.
 */
final class ModelCache {
  private static final Logger log = LoggerFactory.getLogger(ModelCache.class);

  private final ModelTable table;
  private final BackendCatalog catalog;
  private final ScheduledExecutorService scheduler;
  private final Ticker ticker;
  private final ModelServerListener listener;
  private final MemoryBudget budget;
  /** Serialises the choice of victims, so that two loads do not evict for the same bytes. */
  private final Object evictionLock = new Object();

  ModelCache(ModelTable table, BackendCatalog catalog, ScheduledExecutorService scheduler,
      Ticker ticker, ModelServerListener listener, long maxLoadedBytes) {
    this.table = table;
    this.catalog = catalog;
    this.scheduler = scheduler;
    this.ticker = ticker;
    this.listener = listener;
    this.budget = new MemoryBudget(maxLoadedBytes);
    scheduler.scheduleWithFixedDelay(this::evictExpired, 100, 100, TimeUnit.MILLISECONDS);
  }

  /** Bytes held by loaded and loading models. */
  long memoryUsed() {
    return budget.used();
  }

  /** Reserves a loading version's estimate, evicting idle models if needed. */
  void reserve(ModelVersion v, long estimate) {
    if (estimate > budget.max() || !makeRoom(estimate, v)) {
      throw insufficient(v, estimate);
    }
    v.weight(estimate);
  }

  /**
   * Replaces a loaded version's estimate by what its engine reported; evicts idle models when that
   * goes over the budget, and throws INSUFFICIENT_MEMORY when even that does not help.
   */
  void settle(ModelVersion v, long estimate, long reported) {
    if (reported < 0 || reported == estimate) {
      return;
    }
    budget.add(reported - estimate);
    v.weight(reported);
    if (budget.over() && (!makeRoom(0, v) || budget.over())) {
      throw insufficient(v, reported);
    }
  }

  /** Gives a closed version's bytes back, once. */
  void giveBack(ModelVersion v) {
    budget.add(-v.takeWeight());
  }

  private ModelServingException insufficient(ModelVersion v, long needed) {
    return new ModelServingException(ErrorCode.INSUFFICIENT_MEMORY,
        "version " + v.version + " of '" + v.name + "' needs about " + mib(needed)
            + " but the server's budget is " + mib(budget.max()) + ", with " + mib(budget.used())
            + " held by models in use or loading; raise maxLoadedBytes, declare a smaller"
            + " memoryBytes, or unload a model");
  }

  private static String mib(long bytes) {
    return bytes >= (1L << 20) ? (bytes >> 20) + " MiB" : bytes + " bytes";
  }

  /**
   * Reserves {@code bytes}, evicting idle ready versions, least recently used first, until they
   * fit; false when they cannot fit even with every idle version gone and no other load under
   * way. Waits (on the loading thread, holding no lock) for each evicted model to close, since its
   * bytes are native memory until then, and for other loads to end.
   */
  private boolean makeRoom(long bytes, ModelVersion loading) {
    while (true) {
      CompletableFuture<?> awaited;
      synchronized (evictionLock) {
        if (budget.tryReserve(bytes)) {
          return true;
        }
        ModelVersion victim = leastRecentlyUsedIdle(loading);
        if (victim == null) {
          // Another load holding bytes ends idle (evictable) or failed (its bytes back): wait for
          // it rather than refuse, so that models loading together at start share a budget. Only
          // a load that holds nothing yet waits, so no two loads wait for each other.
          ModelVersion other = bytes > 0 ? otherLoad(loading) : null;
          if (other == null) {
            return false;
          }
          awaited = other.loadFuture.exceptionally(error -> null);
        } else {
          log.info("unloading idle '{}' version {} to make room for '{}' version {}",
              victim.name, victim.version, loading.name, loading.version);
          awaited = evictIdle(victim) ? victim.closedFuture : null;
        }
      }
      if (awaited != null) {
        awaited.join();
      }
    }
  }

  private @Nullable ModelVersion otherLoad(ModelVersion loading) {
    for (ModelEntry e : table.entries()) {
      for (ModelVersion v : e.versions.values()) {
        if (v != loading && v.weight() > 0
            && (v.state() == ModelState.LOADING || v.state() == ModelState.WARMING)) {
          return v;
        }
      }
    }
    return null;
  }

  private @Nullable ModelVersion leastRecentlyUsedIdle(ModelVersion loading) {
    ModelVersion victim = null;
    for (ModelEntry e : table.entries()) {
      for (ModelVersion v : e.versions.values()) {
        if (v != loading && v.state() == ModelState.READY && v.inFlight() == 0
            && (victim == null || v.lastUsedNanos() < victim.lastUsedNanos())) {
          victim = v;
        }
      }
    }
    return victim;
  }

  /** Unloads a ready version if no request holds it; its source stays registered. */
  private boolean evictIdle(ModelVersion v) {
    ModelEntry e = table.get(v.name);
    if (e == null) {
      return false;
    }
    synchronized (e) {
      if (v.state() != ModelState.READY || !v.stopIfIdle()) {
        return false;
      }
      v.draining();
      e.changed();
    }
    listener.drainStarted(v.name, v.version);
    v.closeOnce();
    return true;
  }

  /** A keep-alive in nanoseconds: negative stays negative (forever), past 292 years saturates. */
  static long nanosOf(Duration keepAlive) {
    if (keepAlive.isNegative()) {
      return -1;
    }
    return keepAlive.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE
        : keepAlive.toNanos();
  }

  /** Unloads versions idle for longer than their keep-alive. Runs on the timer: never closes. */
  private void evictExpired() {
    try {
      long now = ticker.read();
      for (ModelEntry e : table.entries()) {
        long keepAlive = nanosOf(e.config.keepAlive());
        if (keepAlive < 0 || e.awaitingLoad.get() > 0) {
          continue;
        }
        for (ModelVersion v : e.versions.values()) {
          if (v.state() == ModelState.READY && v.inFlight() == 0
              && now - v.lastUsedNanos() >= keepAlive && evictIdle(v)) {
            log.info("'{}' version {} unloaded after {} idle (keep-alive)", v.name, v.version,
                e.config.keepAlive());
          }
        }
      }
    } catch (RuntimeException ex) {
      log.warn("idle eviction failed; will try again", ex);
    }
  }

  /** Looks for expired versions now rather than at the next tick (a keep-alive of 0). */
  void evictSoon() {
    try {
      scheduler.execute(this::evictExpired);
    } catch (RejectedExecutionException closing) {
      // The server is closing: it unloads every version anyway.
    }
  }

  /** Called when a request lets go of its version. */
  void released(ModelVersion v) {
    v.touch(ticker.read());
    v.release();
    // The model's configuration now, not the version's at load: keep-alive may change since.
    if (table.config(v.name).keepAlive().isZero() && v.inFlight() == 0) {
      evictSoon();
    }
  }

  /** What a version not loaded now would take: declared, else the engine's estimate. */
  long estimate(ModelConfig config, ModelSource source) {
    if (config.memoryBytes() > 0) {
      return config.memoryBytes();
    }
    try {
      return estimate(catalog.select(source, config.backend()), source);
    } catch (RuntimeException noEngine) {
      return artifactBytes(source);
    }
  }

  /** What {@code backend} says {@code source} will take, else its size times the factor. */
  static long estimate(Backend backend, ModelSource source) {
    long told = backend.memoryBytes(source);
    return told > 0 ? told : (long) (artifactBytes(source) * backend.memoryFactor());
  }

  static long artifactBytes(ModelSource source) {
    Path path = source.location();
    try {
      if (Files.isDirectory(path)) {
        try (Stream<Path> files = Files.walk(path)) {
          return files.filter(Files::isRegularFile).mapToLong(ModelCache::sizeOrZero).sum();
        }
      }
      return Files.isRegularFile(path) ? Files.size(path) : 0;
    } catch (IOException | UncheckedIOException ex) {
      return 0;
    }
  }

  private static long sizeOrZero(Path file) {
    try {
      return Files.size(file);
    } catch (IOException ex) {
      return 0;
    }
  }
}
