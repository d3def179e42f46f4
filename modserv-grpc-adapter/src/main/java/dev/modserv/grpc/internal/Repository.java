package dev.modserv.grpc.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelRegistry;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.grpc.internal.proto.ModelRepositoryParameter;
import dev.modserv.grpc.internal.proto.RepositoryIndexResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * The repository extension in Triton's form, over a model root laid out {@code
 * <root>/<model>/<version>/<artifact>}: index, load (a model's highest version folder, or the one
 * the {@code version} parameter names) and unload (every version, drained first). Paths never
 * leave the root: a model name is one plain folder name, and the artifact's real path must lie
 * inside the root's.
 */
final class Repository {
  private final ModelRegistry registry;
  private final Path root;

  Repository(ModelRegistry registry, Path root) {
    this.registry = registry;
    this.root = root;
  }

  /** Every version the registry knows (loaded, registered, failed); with {@code readyOnly}, READY ones. */
  RepositoryIndexResponse index(boolean readyOnly) {
    List<ModelStatus> all = new ArrayList<>(registry.models());
    all.addAll(registry.registered());
    all.sort(Comparator.comparing(ModelStatus::name).thenComparingLong(ModelStatus::version));
    RepositoryIndexResponse.Builder b = RepositoryIndexResponse.newBuilder();
    for (ModelStatus s : all) {
      if (readyOnly && s.state() != ModelState.READY) {
        continue;
      }
      b.addModels(RepositoryIndexResponse.ModelIndex.newBuilder().setName(s.name())
          .setVersion(Long.toString(s.version())).setState(state(s))
          .setReason(s.failure().orElse("")));
    }
    return b.build();
  }

  /** The protocol's state names for modserv's states. */
  private static String state(ModelStatus s) {
    return switch (s.state()) {
      case READY -> "READY";
      case LOADING, WARMING -> "LOADING";
      case DRAINING -> "UNLOADING";
      case UNLOADED, FAILED -> "UNAVAILABLE";
    };
  }

  /** Loads {@code name}'s version folder; completes when it is READY (or failed). */
  CompletableFuture<ModelStatus> load(String name, Map<String, ModelRepositoryParameter> params) {
    Path dir = modelFolder(name);
    Long version = null;
    for (Map.Entry<String, ModelRepositoryParameter> p : params.entrySet()) {
      String field = "parameters." + p.getKey();
      ModelRepositoryParameter v = p.getValue();
      if (!p.getKey().equals("version")) {
        throw WireTensors.bad(field, "is not supported; modserv takes 'version' (the model's"
            + " files come from its folder in the model root)");
      }
      String text = switch (v.getParameterChoiceCase()) {
        case INT64_PARAM -> Long.toString(v.getInt64Param());
        case STRING_PARAM -> v.getStringParam();
        default -> "";
      };
      if (!text.matches("[1-9][0-9]{0,17}")) {
        throw WireTensors.bad(field, "expected a version number from 1 to 999999999999999999,"
            + " as int64_param or string_param");
      }
      version = Long.parseLong(text);
    }
    TreeSet<Long> found = versions(dir);
    if (found.isEmpty()) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "'" + name + "' has no numbered"
          + " version folder in the model repository");
    }
    if (version != null && !found.contains(version)) {
      throw new ModelServingException(ErrorCode.VERSION_NOT_FOUND, "'" + name + "' has no version"
          + " folder " + version + "; it has " + found);
    }
    long v = version != null ? version : found.last();
    return registry.load(name, v, inside(artifact(dir.resolve(Long.toString(v)))));
  }

  /** Drains and unloads every version of {@code name}. */
  CompletableFuture<Void> unload(String name) {
    InferenceService.ref(name, "model_name", "", "");
    if (registry.versions(name).isEmpty()) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "no model named '" + name
          + "' is loaded");
    }
    return registry.unload(name);
  }

  private Path modelFolder(String name) {
    InferenceService.ref(name, "model_name", "", "");
    if (name.equals(".") || name.equals("..") || name.contains("/") || name.contains("\\")) {
      throw WireTensors.bad("model_name", "must be a folder name in the model root");
    }
    Path dir = inside(root.resolve(name));
    if (!Files.isDirectory(dir)) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "no folder '" + name
          + "' in the model repository");
    }
    return dir;
  }

  /** Returns {@code p} once its real path lies inside the root (a link may not lead out). */
  /**
   * Returns {@code p} when what a load of it would read lies inside the root: its real path, and
   * for a folder the real path of everything under it (links followed, at most 10,000 entries),
   * as the HTTP management routes check it; else INVALID_INPUT.
   */
  private Path inside(Path p) {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return p;
    }
    String shown = root.relativize(p).toString();
    int[] seen = {0};
    try (Stream<Path> tree = Files.walk(p, FileVisitOption.FOLLOW_LINKS)) {
      tree.forEach(each -> {
        if (++seen[0] > 10_000) {
          throw outside(shown, "holds more than 10000 files");
        }
        try {
          if (!each.toRealPath().startsWith(root)) {
            throw outside(shown, "resolves outside the model root");
          }
        } catch (IOException e) {
          throw outside(shown, "cannot be resolved inside the model root");
        }
      });
    } catch (IOException | UncheckedIOException e) {
      throw outside(shown, "cannot be walked inside the model root");
    }
    return p;
  }

  private static ModelServingException outside(String shown, String why) {
    return new ModelServingException(ErrorCode.INVALID_INPUT, "model_name: '" + shown + "' "
        + why);
  }

  private static TreeSet<Long> versions(Path modelDir) {
    TreeSet<Long> out = new TreeSet<>();
    try (Stream<Path> children = Files.list(modelDir)) {
      for (Path p : children.toList()) {
        String n = p.getFileName().toString();
        if (n.matches("[1-9][0-9]{0,17}") && Files.isDirectory(p)) {
          out.add(Long.parseLong(n));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the model folder " + modelDir.getFileName(), e);
    }
    return out;
  }

  /** A version folder's one file, or the folder itself (a SavedModel, a model with a tokenizer). */
  private static Path artifact(Path versionDir) {
    try (Stream<Path> children = Files.list(versionDir)) {
      List<Path> files = children.filter(p -> !p.getFileName().toString().startsWith("."))
          .toList();
      return files.size() == 1 && Files.isRegularFile(files.get(0)) ? files.get(0) : versionDir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the version folder " + versionDir, e);
    }
  }
}
