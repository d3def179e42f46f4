package dev.modserv.http.internal;

import dev.modserv.http.FitCandidate;
import java.util.List;

/**
 * The node fit report's settings.
 *
 * @param catalog models this node does not hold, rated too
 * @param memoryBytes the memory every model is rated against instead of the memory available now
 *     (the reference's {@code --memory}); -1 for what is available
 * @param maxContext the most context tokens a model's cache is sized for (the reference's {@code
 *     --max-context}); 0 for each model's own
 */
public record FitSettings(List<FitCandidate> catalog, long memoryBytes, int maxContext) {
  /** No catalog, no overrides. */
  public static final FitSettings DEFAULTS = new FitSettings(List.of(), -1, 0);

  /** Copies the catalog. */
  public FitSettings {
    catalog = List.copyOf(catalog);
  }
}
