package dev.modserv.http.internal;

import java.util.Map;

/**
 * Settings of the adapter's optional features, kept apart from {@link Settings} so that each can
 * grow without touching the request path.
 *
 * @param processing pre- and post-processing configured per model name
 */
public record Extras(Map<String, Processing.Spec> processing) {
  /** Copies the map. */
  public Extras {
    processing = Map.copyOf(processing);
  }
}
