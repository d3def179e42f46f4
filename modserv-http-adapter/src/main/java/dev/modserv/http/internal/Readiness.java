package dev.modserv.http.internal;

import dev.modserv.core.ModelState;
import java.util.ArrayList;
import java.util.List;

/** Whether the adapter is ready: accepting, and every required model READY with queue room. */
public final class Readiness {
  private Readiness() {}

  /** The required models with no READY version whose queue has room; empty when ready. */
  public static List<String> waiting(Settings settings) {
    List<String> waiting = new ArrayList<>();
    for (String name : settings.requiredModels()) {
      boolean ready = settings.server().registry().versions(name).stream()
          .anyMatch(s -> s.state() == ModelState.READY && !s.queueFull());
      if (!ready) {
        waiting.add(name);
      }
    }
    return waiting;
  }

  /** Whether the adapter accepts requests and no required model is waiting. */
  public static boolean ready(Settings settings) {
    return settings.accepting().get() && waiting(settings).isEmpty();
  }
}
