package dev.modserv.http.internal;

import dev.modserv.core.ModelRegistry;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether the adapter is ready ({@code docs/operations.md}, "Readiness"): it accepts requests, and
 * every required model can be served — a READY version whose queue has room, a version registered
 * to load on demand (lazy, or unloaded while idle), or one draining on its way there. A required
 * model whose versions all FAILED keeps it unready only when readiness is strict. A required model
 * the registry once knew and no longer knows (removed from the repository, or unloaded on purpose)
 * is no longer required; one the registry has never known is waited for.
 */
public final class Readiness {
  private final ModelRegistry registry;
  private final List<String> required;
  private final boolean strict;
  private final AtomicBoolean accepting;
  /** Required models the registry has known (they count only while it still knows them). */
  private final Set<String> arrived = ConcurrentHashMap.newKeySet();

  /**
   * @param registry the models
   * @param required the models readiness waits for
   * @param strict whether a required model that FAILED keeps the adapter unready
   * @param accepting false once shutdown began
   */
  public Readiness(ModelRegistry registry, List<String> required, boolean strict,
      AtomicBoolean accepting) {
    this.registry = registry;
    this.required = List.copyOf(required);
    this.strict = strict;
    this.accepting = accepting;
    waiting(); // models the registry already knows count as arrived from the start
  }

  /** Whether the adapter still takes requests (false once shutdown began). */
  public boolean accepting() {
    return accepting.get();
  }

  /** The required models that cannot be served now; empty when ready. */
  public List<String> waiting() {
    if (required.isEmpty()) {
      return List.of();
    }
    Set<String> onDemand = new HashSet<>();
    for (ModelStatus s : registry.registered()) {
      onDemand.add(s.name());
    }
    List<String> waiting = new ArrayList<>();
    for (String name : required) {
      List<ModelStatus> versions = registry.versions(name);
      if (versions.isEmpty() && !onDemand.contains(name)) {
        if (!arrived.contains(name)) {
          waiting.add(name); // not known yet: still to be loaded
        }
        continue; // known once, gone now: no longer required
      }
      arrived.add(name);
      if (!onDemand.contains(name) && !servable(versions)) {
        waiting.add(name);
      }
    }
    return waiting;
  }

  private boolean servable(List<ModelStatus> versions) {
    boolean allFailed = true;
    for (ModelStatus s : versions) {
      if (s.state() == ModelState.READY && !s.queueFull() || s.state() == ModelState.DRAINING) {
        return true;
      }
      allFailed &= s.state() == ModelState.FAILED;
    }
    return allFailed && !strict;
  }

  /**
   * {@code name} was unloaded on purpose through the API: from now on it counts only while the
   * registry knows it, as if readiness had seen it.
   */
  public void unloaded(String name) {
    if (required.contains(name)) {
      arrived.add(name);
    }
  }

  /** Whether the adapter accepts requests and no required model is waiting. */
  public boolean ready() {
    return accepting.get() && waiting().isEmpty();
  }
}
