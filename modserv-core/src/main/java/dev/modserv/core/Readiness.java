package dev.modserv.core;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whether a set of required models can be served ({@code docs/operations.md}, "Readiness"): each
 * has a READY version whose queue has room, a version registered to load on demand (lazy, or
 * unloaded while idle), or one draining on its way there. A required model whose versions all
 * FAILED counts as unservable only when readiness is strict. A required model the registry once
 * knew and no longer knows (removed from the repository, or unloaded on purpose) is no longer
 * required; one the registry has never known is waited for.
 *
 * <p>Every protocol adapter of one server answers readiness by this rule (HTTP {@code /ready},
 * gRPC {@code ServerReady} and health); whether the adapter itself still takes requests is the
 * adapter's part. Thread-safe.
 */
public final class Readiness {
  private final ModelRegistry registry;
  private final List<String> required;
  private final boolean strict;
  /** Required models the registry has known (they count only while it still knows them). */
  private final Set<String> arrived = ConcurrentHashMap.newKeySet();

  private Readiness(ModelRegistry registry, Collection<String> required, boolean strict) {
    this.registry = registry;
    this.required = List.copyOf(new LinkedHashSet<>(required));
    this.strict = strict;
    waiting(); // the models the registry already knows count as arrived from the start
  }

  /**
   * Returns readiness over {@code required} in {@code registry}.
   *
   * @param strict whether a required model whose versions all FAILED keeps the server unready
   *     (Triton's strict readiness)
   */
  public static Readiness of(ModelRegistry registry, Collection<String> required, boolean strict) {
    return new Readiness(registry, required, strict);
  }

  /** Returns the required models that cannot be served now; empty when ready. */
  public List<String> waiting() {
    if (required.isEmpty()) {
      return List.of();
    }
    Set<String> onDemand = onDemand();
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
      if (!onDemand.contains(name) && !servable(versions, strict)) {
        waiting.add(name);
      }
    }
    return waiting;
  }

  /** Whether no required model is waiting. */
  public boolean ready() {
    return waiting().isEmpty();
  }

  /**
   * Whether {@code name} (required or not) can take a request now: a READY version with queue
   * room, a draining one, or a version registered to load on demand.
   */
  public boolean canServe(String name) {
    return onDemand().contains(name) || servable(registry.versions(name), true);
  }

  /**
   * {@code name} was unloaded on purpose through an API: from now on it counts only while the
   * registry knows it, as if readiness had seen it.
   */
  public void unloaded(String name) {
    if (required.contains(name)) {
      arrived.add(name);
    }
  }

  private Set<String> onDemand() {
    Set<String> names = new HashSet<>();
    for (ModelStatus s : registry.registered()) {
      names.add(s.name());
    }
    return names;
  }

  private static boolean servable(List<ModelStatus> versions, boolean strict) {
    boolean allFailed = !versions.isEmpty();
    for (ModelStatus s : versions) {
      if (s.state() == ModelState.READY && !s.queueFull() || s.state() == ModelState.DRAINING) {
        return true;
      }
      allFailed &= s.state() == ModelState.FAILED;
    }
    return allFailed && !strict;
  }
}
