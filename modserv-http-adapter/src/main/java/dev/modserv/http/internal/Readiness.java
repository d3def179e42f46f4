package dev.modserv.http.internal;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether the adapter is ready: it accepts requests, and the server's required models can be
 * served by the rule of {@link dev.modserv.core.Readiness}.
 */
public final class Readiness {
  private final dev.modserv.core.Readiness models;
  private final AtomicBoolean accepting;

  /**
   * @param models the required models' readiness
   * @param accepting false once shutdown began
   */
  public Readiness(dev.modserv.core.Readiness models, AtomicBoolean accepting) {
    this.models = models;
    this.accepting = accepting;
  }

  /** Whether the adapter still takes requests (false once shutdown began). */
  public boolean accepting() {
    return accepting.get();
  }

  /** The required models that cannot be served now; empty when ready. */
  public List<String> waiting() {
    return models.waiting();
  }

  /** {@code name} was unloaded on purpose through the API. */
  public void unloaded(String name) {
    models.unloaded(name);
  }

  /** Whether the adapter accepts requests and no required model is waiting. */
  public boolean ready() {
    return accepting.get() && models.ready();
  }
}
