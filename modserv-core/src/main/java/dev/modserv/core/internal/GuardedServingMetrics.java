package dev.modserv.core.internal;

import dev.modserv.core.ServingMetrics;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wraps a user's {@link ServingMetrics} so that its exceptions never reach a request: each is
 * logged (the first one in full, later ones at debug) and swallowed.
 */
public final class GuardedServingMetrics implements ServingMetrics {
  private static final Logger log = LoggerFactory.getLogger(GuardedServingMetrics.class);

  private final ServingMetrics delegate;
  private final AtomicBoolean warned = new AtomicBoolean();

  private GuardedServingMetrics(ServingMetrics delegate) {
    this.delegate = delegate;
  }

  public static ServingMetrics guard(ServingMetrics metrics) {
    if (metrics instanceof GuardedServingMetrics
        || metrics instanceof MicrometerServingMetrics
        || metrics == ServingMetrics.noop()) {
      return metrics;
    }
    return new GuardedServingMetrics(metrics);
  }

  void failed(String what, RuntimeException e) {
    if (warned.compareAndSet(false, true)) {
      log.warn("metrics implementation {} threw in {}; ignoring it and further failures", delegate
          .getClass().getName(), what, e);
    } else {
      log.debug("metrics implementation threw in {}", what, e);
    }
  }

  @Override
  public VersionMetrics version(String model, long version) {
    try {
      return new Version(delegate.version(model, version));
    } catch (RuntimeException e) {
      failed("version", e);
      return ServingMetrics.Noop.INSTANCE;
    }
  }

  @Override
  public void loadFinished(String model, long version, long nanos, boolean success) {
    try {
      delegate.loadFinished(model, version, nanos, success);
    } catch (RuntimeException e) {
      failed("loadFinished", e);
    }
  }

  @Override
  public void loadedModels(IntSupplier count) {
    try {
      delegate.loadedModels(count);
    } catch (RuntimeException e) {
      failed("loadedModels", e);
    }
  }

  @Override
  public void error(String model, dev.modserv.api.ErrorCode code) {
    try {
      delegate.error(model, code);
    } catch (RuntimeException e) {
      failed("error", e);
    }
  }

  @Override
  public CacheMetrics cache(String cache, String model) {
    CacheMetrics c;
    try {
      c = delegate.cache(cache, model);
    } catch (RuntimeException e) {
      failed("cache", e);
      return ServingMetrics.Noop.INSTANCE;
    }
    return new CacheMetrics() {
      @Override
      public void hits(long count) {
        guarded("hits", () -> c.hits(count));
      }

      @Override
      public void misses(long count) {
        guarded("misses", () -> c.misses(count));
      }

      @Override
      public void evictions(long count) {
        guarded("evictions", () -> c.evictions(count));
      }

      @Override
      public void size(LongSupplier bytes) {
        guarded("size", () -> c.size(bytes));
      }
    };
  }

  private void guarded(String what, Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      failed(what, e);
    }
  }

  private final class Version implements VersionMetrics {
    private final VersionMetrics v;

    Version(VersionMetrics v) {
      this.v = v;
    }

    @Override
    public void request(Outcome outcome, long latencyNanos) {
      try {
        v.request(outcome, latencyNanos);
      } catch (RuntimeException e) {
        failed("request", e);
      }
    }

    @Override
    public void queueWait(long nanos) {
      try {
        v.queueWait(nanos);
      } catch (RuntimeException e) {
        failed("queueWait", e);
      }
    }

    @Override
    public void batch(int rows, long engineNanos) {
      try {
        v.batch(rows, engineNanos);
      } catch (RuntimeException e) {
        failed("batch", e);
      }
    }

    @Override
    public void queueDepth(IntSupplier depth) {
      try {
        v.queueDepth(depth);
      } catch (RuntimeException e) {
        failed("queueDepth", e);
      }
    }

    @Override
    public void active(IntSupplier inFlight) {
      try {
        v.active(inFlight);
      } catch (RuntimeException e) {
        failed("active", e);
      }
    }

    @Override
    public void state(java.util.function.Supplier<dev.modserv.core.ModelState> state) {
      try {
        v.state(state);
      } catch (RuntimeException e) {
        failed("state", e);
      }
    }

    @Override
    public void generation(dev.modserv.api.FinishReason reason, dev.modserv.api.Usage usage,
        dev.modserv.api.GenerationTimings timings) {
      try {
        v.generation(reason, usage, timings);
      } catch (RuntimeException e) {
        failed("generation", e);
      }
    }

    @Override
    public void generationSequences(IntSupplier running, IntSupplier waiting) {
      try {
        v.generationSequences(running, waiting);
      } catch (RuntimeException e) {
        failed("generationSequences", e);
      }
    }

    @Override
    public void close() {
      try {
        v.close();
      } catch (RuntimeException e) {
        failed("close", e);
      }
    }
  }
}
