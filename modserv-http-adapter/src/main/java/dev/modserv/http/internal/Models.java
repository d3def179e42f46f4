package dev.modserv.http.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.ModelRegistry;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** Looks up what the translators need from the registry: versions and their metadata. */
public final class Models {
  private Models() {}

  /** Returns the status {@code ref} points at now, failing as the server would. */
  public static ModelStatus status(ModelRegistry registry, ModelRef ref) {
    List<ModelStatus> loaded = registry.versions(ref.name());
    // Registered to load on its first request: the version it would load.
    List<ModelStatus> versions = !loaded.isEmpty() ? loaded : registry.registered().stream()
        .filter(s -> s.name().equals(ref.name())).toList();
    if (versions.isEmpty()) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND,
          "no model named '" + ref.name() + "'");
    }
    Optional<ModelStatus> found;
    if (ref.version().isPresent()) {
      long v = ref.version().getAsLong();
      found = versions.stream().filter(s -> s.version() == v).findFirst();
    } else if (ref.label().isPresent() && !ref.isLatest()) {
      String label = ref.label().get();
      found = versions.stream().filter(s -> s.labels().contains(label)).findFirst();
    } else {
      found = versions.stream().filter(s -> s.state() == ModelState.READY)
          .max(Comparator.comparingLong(ModelStatus::version));
      if (found.isEmpty()) {
        found = versions.stream().max(Comparator.comparingLong(ModelStatus::version));
      }
    }
    return found.orElseThrow(() -> new ModelServingException(ErrorCode.VERSION_NOT_FOUND,
        "model '" + ref.name() + "' has no version " + ref.version().stream()
            .mapToObj(Long::toString).findFirst().orElse(ref.label().orElse("")) + "; it has "
            + versions.stream().map(s -> Long.toString(s.version())).toList()));
  }

  /**
   * Returns the loaded versions of every model a client may pick, by name in the registry's order.
   * A model whose every version failed to load is left out: requests to it fail until it is loaded
   * again (the native {@code /api/models} shows it with its state and cause).
   */
  public static Map<String, List<ModelStatus>> byName(ModelRegistry registry) {
    Map<String, List<ModelStatus>> byName = registry.models().stream().collect(
        Collectors.groupingBy(ModelStatus::name, LinkedHashMap::new, Collectors.toList()));
    byName.values().removeIf(versions -> versions.stream()
        .allMatch(s -> s.state() == ModelState.FAILED));
    return byName;
  }

  /** Returns the metadata of the version {@code ref} points at, when it has been loaded. */
  public static Optional<ModelMetadata> metadata(ModelRegistry registry, ModelRef ref) {
    // The registry's cheap lookup first (every predict asks); the snapshot only when it has none.
    Optional<ModelMetadata> loaded = registry.metadata(ref);
    return loaded.isPresent() ? loaded : status(registry, ref).metadata();
  }
}
