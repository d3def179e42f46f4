package dev.modserv.http.internal.oip;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelRegistry;
import dev.modserv.core.ModelStatus;
import dev.modserv.http.internal.ClientText;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Versions;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.ModelRoot;
import dev.modserv.http.internal.Names;
import dev.modserv.http.internal.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The Open Inference Protocol's repository extension (Triton's {@code model_repository}): index,
 * load and unload, on only with the management model root. The root is laid out {@code
 * <root>/<model>/<version>/<artifact>}; loads resolve inside it with the checks of {@code POST
 * /models}.
 */
final class OipRepository {
  private final Settings settings;
  private final Path root;

  OipRepository(Settings settings) {
    this.settings = settings;
    this.root = java.util.Objects.requireNonNull(settings.modelRoot(), "modelRoot");
  }

  private ModelRegistry registry() {
    return settings.server().registry();
  }

  private @Nullable JsonNode body(Exchange ex) throws IOException {
    if (ex.body().length == 0) {
      return null;
    }
    JsonNode node = Json.MAPPER.readTree(Json.parser(ex.body()));
    if (node != null && !node.isNull() && !node.isObject()) {
      throw HttpError.badField("", "expected an object");
    }
    return node == null || node.isNull() ? null : node;
  }

  /** The protocol's state names for modserv's states. */
  static String state(ModelStatus s) {
    return switch (s.state()) {
      case READY -> "READY";
      case LOADING, WARMING -> "LOADING";
      case DRAINING -> "UNLOADING";
      case UNLOADED, FAILED -> "UNAVAILABLE";
    };
  }

  /**
   * {@code POST /v2/repository/index} {@code {"ready": bool?}}: every version known to the
   * registry (loaded, registered or failed) and every model folder of the root not registered,
   * as {@code [{name, version?, state, reason}]}; with {@code ready: true}, only READY ones.
   */
  void index(Exchange ex) throws IOException {
    JsonNode body = body(ex);
    boolean readyOnly = false;
    if (body != null && body.has("ready")) {
      JsonNode r = body.get("ready");
      if (!r.isBoolean()) {
        throw HttpError.badField("ready", "expected true or false, got " + r);
      }
      readyOnly = r.asBoolean();
    }
    List<ModelStatus> all = new ArrayList<>(registry().models());
    all.addAll(registry().registered());
    TreeMap<String, List<ModelStatus>> byName = new TreeMap<>();
    for (ModelStatus s : all) {
      byName.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(s);
    }
    Set<String> folders = readyOnly ? Set.of() : folders();
    boolean ready = readyOnly;
    ex.json(200, Json.write(g -> {
      g.writeStartArray();
      for (var e : byName.entrySet()) {
        List<ModelStatus> versions = new ArrayList<>(e.getValue());
        versions.sort(java.util.Comparator.comparingLong(ModelStatus::version));
        for (ModelStatus s : versions) {
          String state = state(s);
          if (ready && !state.equals("READY")) {
            continue;
          }
          g.writeStartObject();
          g.writeStringField("name", s.name());
          g.writeStringField("version", Long.toString(s.version()));
          g.writeStringField("state", state);
          g.writeStringField("reason", s.failure().orElse(
              s.state() == dev.modserv.core.ModelState.UNLOADED && s.loadedAt().isEmpty()
                  ? "registered; loads on its first request" : ""));
          g.writeEndObject();
        }
      }
      for (String f : folders) {
        if (!byName.containsKey(f)) {
          g.writeStartObject();
          g.writeStringField("name", f);
          g.writeStringField("state", "UNAVAILABLE");
          g.writeStringField("reason", "in the model repository; not loaded");
          g.writeEndObject();
        }
      }
      g.writeEndArray();
    }));
  }

  /** The model folders of the root: directories holding at least one numbered version folder. */
  private Set<String> folders() {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> children = Files.list(root)) {
      for (Path p : children.toList()) {
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
            && !versions(p).isEmpty()) {
          out.add(p.getFileName().toString());
        }
      }
    } catch (IOException e) {
      throw new HttpError(500, "cannot list the model repository: " + e.getClass().getSimpleName());
    }
    return out;
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
      return out;
    }
    return out;
  }

  /**
   * {@code POST /v2/repository/models/{m}/load}, optional body {@code {"parameters": {"version"?:
   * n, "path"?: "..."}}}: loads {@code <root>/<m>/<version>/} (the highest version by default; its
   * one file, or the folder itself when it holds several), or {@code path} inside the root.
   */
  void load(Exchange ex) throws IOException {
    String name = Names.model("model", ex.param("m"));
    JsonNode body = body(ex);
    JsonNode params = body == null ? null : body.get("parameters");
    if (params != null && !params.isObject()) {
      throw HttpError.badField("parameters", "expected an object");
    }
    Long version = null;
    String path = null;
    if (params != null) {
      for (var it = params.fields(); it.hasNext(); ) {
        var e = it.next();
        JsonNode v = e.getValue();
        switch (e.getKey()) {
          case "version" -> {
            version = Versions.read("parameters.version", v);
          }
          case "path" -> {
            if (!v.isTextual() || ClientText.hasControl(v.asText())) {
              throw HttpError.badField("parameters.path", "expected a path inside the model root");
            }
            path = v.asText();
          }
          default -> throw HttpError.badField("parameters." + e.getKey(), "is not supported;"
              + " give version and/or path (files come from the model root)");
        }
      }
    }
    Target target;
    if (path != null) {
      target = new Target(ModelRoot.loadable(root, path), version != null ? version
          : registry().versions(name).stream().mapToLong(ModelStatus::version).max().orElse(0)
              + 1);
    } else {
      target = inFolder(name, version);
    }
    Path artifact = target.artifact();
    long v = target.version();
    long loadedVersion = v;
    ex.jsonWhenDone(registry().load(name, v, artifact), 200, (g, status) -> {
      g.writeStartObject();
      g.writeStringField("name", name);
      g.writeStringField("version", Long.toString(loadedVersion));
      g.writeStringField("state", state(status));
      g.writeEndObject();
    });
  }

  /** What a load request loads: the file (or folder) and its version. */
  private record Target(Path artifact, long version) {}

  /** The model's version folder in the root: {@code version}, or the highest. */
  private Target inFolder(String name, @Nullable Long version) {
    Path dir = ModelRoot.confine(root, name);
    if (!Files.isDirectory(dir)) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "no folder '" + name
          + "' in the model repository");
    }
    TreeSet<Long> found = versions(dir);
    if (found.isEmpty()) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "'" + name + "' has no"
          + " numbered version folder in the model repository");
    }
    if (version != null && !found.contains(version)) {
      throw new ModelServingException(ErrorCode.VERSION_NOT_FOUND, "'" + name + "' has no"
          + " version folder " + version + "; it has " + found);
    }
    long v = version != null ? version : found.last();
    // The artifact itself is checked again: a link in the version folder must stay inside.
    Path artifact = artifact(ModelRoot.confine(root, name + "/" + v));
    return new Target(ModelRoot.loadable(root, root.relativize(artifact).toString()), v);
  }

  /** A version folder's one regular file, or the folder itself (a SavedModel, say). */
  private static Path artifact(Path versionDir) {
    try (Stream<Path> children = Files.list(versionDir)) {
      List<Path> files = children.filter(p -> !p.getFileName().toString().startsWith("."))
          .toList();
      if (files.size() == 1 && Files.isRegularFile(files.get(0))) {
        return files.get(0);
      }
      return versionDir;
    } catch (IOException e) {
      throw new HttpError(500, "cannot list " + versionDir.getFileName() + ": "
          + e.getClass().getSimpleName());
    }
  }

  /** {@code POST /v2/repository/models/{m}/unload}: drains and unloads every version. */
  void unload(Exchange ex) throws IOException {
    String name = Names.model("model", ex.param("m"));
    body(ex);
    if (registry().versions(name).isEmpty()) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "no model named '" + name
          + "' is loaded");
    }
    settings.readiness().unloaded(name);
    ex.jsonWhenDone(registry().unload(name), 200, (g, ok) -> {
      g.writeStartObject();
      g.writeStringField("name", name);
      g.writeStringField("state", "UNAVAILABLE");
      g.writeEndObject();
    });
  }
}
