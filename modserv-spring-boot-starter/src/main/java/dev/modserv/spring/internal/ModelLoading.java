package dev.modserv.spring.internal;

import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelRegistry;
import dev.modserv.spi.ModelSource;
import dev.modserv.spring.ModservProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the {@code modserv.models} and {@code modserv.repository} properties into configured
 * models, loaded at start (in the background: readiness says when they are READY) or registered
 * to load on first use.
 */
public final class ModelLoading {
  private static final Logger log = LoggerFactory.getLogger(ModelLoading.class);

  private ModelLoading() {}

  /** One version to serve: its name, version, where it is and its settings. */
  private record Planned(String name, long version, Path path, ModservProperties.Model settings) {}

  /**
   * Returns the model names the properties serve, in order: the repository's, then the others.
   *
   * @throws IllegalStateException when a model has no path and is not in the repository, or both
   */
  public static List<String> names(ModservProperties properties) {
    return plan(properties).stream().map(Planned::name).distinct().toList();
  }

  /** Configures every model the properties name and starts loading (or registers) each version. */
  public static void start(ModelRegistry registry, ModservProperties properties) {
    for (Planned p : plan(properties)) {
      registry.configure(p.name(), config(p.settings()));
      ModelSource source = new ModelSource(p.path(), p.settings().getEngineOptions());
      if (p.settings().isLazy()) {
        registry.register(p.name(), p.version(), source);
        continue;
      }
      registry.load(p.name(), p.version(), source).whenComplete((status, failure) -> {
        if (failure != null) {
          // The registry keeps the version FAILED with its cause: health shows it.
          log.warn("model {} version {} from {} did not load: {}", p.name(), p.version(),
              p.path(), failure.getMessage());
        }
      });
    }
  }

  private static List<Planned> plan(ModservProperties properties) {
    Map<String, ModservProperties.Model> models = new LinkedHashMap<>(properties.getModels());
    List<Planned> plan = new ArrayList<>();
    Path root = properties.getRepository();
    if (root != null) {
      for (Path modelDir : folders(root)) {
        String name = String.valueOf(modelDir.getFileName());
        ModservProperties.Model settings = models.remove(name);
        if (settings != null && settings.getPath() != null) {
          throw new IllegalStateException("model '" + name + "' is in modserv.repository (" + root
              + ") and has modserv.models." + name + ".path too: remove one of them");
        }
        ModservProperties.Model s = settings != null ? settings : new ModservProperties.Model();
        for (Path versionDir : folders(modelDir)) {
          Long version = version(versionDir);
          if (version != null) {
            plan.add(new Planned(name, version, artifact(versionDir), s));
          }
        }
      }
    }
    models.forEach((name, settings) -> {
      Path path = settings.getPath();
      if (path == null) {
        throw new IllegalStateException("modserv.models." + name + ".path is not set"
            + (root == null ? "" : " and " + root + " has no folder '" + name + "'")
            + ": give the model's file or folder");
      }
      plan.add(new Planned(name, settings.getVersion(), path, settings));
    });
    return plan;
  }

  private static ModelConfig config(ModservProperties.Model m) {
    ModservProperties.Batching b = m.getBatching();
    BatchingPolicy.Builder batching = BatchingPolicy.builder()
        .maxBatchSize(b.getMaxBatchSize())
        .maxQueueDelay(b.getMaxQueueDelay())
        .maxQueueSize(b.getMaxQueueSize());
    Integer instances = b.getInstances();
    if (instances != null) {
      batching.instances(instances);
    }
    if (!b.getPreferredBatchSizes().isEmpty()) {
      batching.preferredBatchSizes(
          b.getPreferredBatchSizes().stream().mapToInt(Integer::intValue).toArray());
    }
    if (b.getDefaultTimeout() != null) {
      batching.defaultTimeout(b.getDefaultTimeout());
    }
    ModelConfig.Builder config = ModelConfig.builder()
        .batching(batching.build())
        .warmup(m.isWarmup())
        .responseCache(m.isResponseCache())
        .embeddingCache(m.isEmbeddingCache());
    if (m.getBackend() != null) {
      config.backend(m.getBackend());
    }
    if (m.getMemory() != null) {
      config.memoryBytes(m.getMemory().toBytes());
    }
    if (m.getKeepAlive() != null) {
      config.keepAlive(m.getKeepAlive());
    }
    return config.build();
  }

  /** The visible sub-folders of {@code dir}, by name. */
  private static List<Path> folders(Path dir) {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.filter(Files::isDirectory).filter(p -> !hidden(p)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the model repository folder " + dir, e);
    }
  }

  private static boolean hidden(Path p) {
    return String.valueOf(p.getFileName()).startsWith(".");
  }

  /** A version folder's number; null for a folder not named by a whole number. */
  private static @Nullable Long version(Path versionDir) {
    String name = String.valueOf(versionDir.getFileName());
    if (name.isEmpty() || name.length() > 18 || !name.chars().allMatch(Character::isDigit)) {
      return null;
    }
    return Long.parseLong(name);
  }

  /** A version folder's one file, or the folder itself (a SavedModel), as the server reads it. */
  private static Path artifact(Path versionDir) {
    try (Stream<Path> entries = Files.list(versionDir)) {
      List<Path> all = entries.filter(p -> !hidden(p)).toList();
      return all.size() == 1 ? all.get(0) : versionDir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + versionDir, e);
    }
  }
}
