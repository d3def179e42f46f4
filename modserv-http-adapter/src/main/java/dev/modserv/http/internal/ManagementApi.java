package dev.modserv.http.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelRegistry;
import dev.modserv.core.ModelStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The management API, on only when a model root is configured: load models from inside that root
 * ({@code POST /models}), list, describe and unload them.
 */
final class ManagementApi {
  private final Settings settings;
  private final Path root;

  ManagementApi(Settings settings) {
    this.settings = settings;
    this.root = Objects.requireNonNull(settings.modelRoot(), "modelRoot");
  }

  private ModelRegistry registry() {
    return settings.server().registry();
  }

  void load(Exchange ex) throws IOException {
    JsonNode body = Json.MAPPER.readTree(Json.parser(ex.body()));
    if (body == null || !body.isObject()) {
      throw HttpError.badField("", "expected {\"name\", \"path\", \"version\"?}");
    }
    JsonNode name = body.get("name");
    if (name == null || !name.isTextual() || name.asText().isEmpty()) {
      throw HttpError.badField("name", "expected a model name");
    }
    JsonNode path = body.get("path");
    if (path == null || !path.isTextual()) {
      throw HttpError.badField("path", "expected a path inside the model root");
    }
    JsonNode versionNode = body.get("version");
    long version;
    if (versionNode == null || versionNode.isNull()) {
      version = registry().versions(name.asText()).stream().mapToLong(ModelStatus::version)
          .max().orElse(0) + 1;
    } else if (versionNode.canConvertToExactIntegral() && versionNode.asLong() >= 1) {
      version = versionNode.asLong();
    } else {
      throw HttpError.badField("version", "expected a version number >= 1, got " + versionNode);
    }
    Path file = confine(path.asText());
    CompletableFuture<ModelStatus> loading = registry().load(name.asText(), version, file);
    ex.jsonWhenDone(loading, 201, NativeApi::writeStatus);
  }

  /**
   * Resolves {@code given} inside the model root, refusing {@code ..}, absolute paths outside the
   * root, and symbolic links whose target lies outside it.
   */
  Path confine(String given) {
    if (given.isEmpty()) {
      throw HttpError.badField("path", "must not be empty");
    }
    Path p;
    try {
      p = Path.of(given);
    } catch (InvalidPathException e) {
      throw HttpError.badField("path", "is not a valid path: " + e.getMessage());
    }
    for (Path part : p) {
      if (part.toString().equals("..")) {
        throw new HttpError(403, "path: '..' is not allowed in model paths: " + given);
      }
    }
    Path resolved = (p.isAbsolute() ? p : root.resolve(p)).normalize();
    if (!resolved.startsWith(root)) {
      throw new HttpError(403, "path: " + given + " is outside the model root");
    }
    // Symbolic links: the deepest part that exists must really lie inside the root.
    Path existing = resolved;
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    if (existing != null) {
      Path real;
      try {
        real = existing.toRealPath();
      } catch (IOException e) {
        // A dangling link or an unreadable part: refuse rather than guess.
        throw new HttpError(403, "path: " + given + " cannot be resolved inside the model root");
      }
      if (!real.startsWith(root)) {
        throw new HttpError(403, "path: " + given + " resolves outside the model root");
      }
    }
    return resolved;
  }

  void list(Exchange ex) {
    List<ModelStatus> all = new java.util.ArrayList<>(registry().models());
    all.addAll(registry().registered());
    all.sort(java.util.Comparator.comparing(ModelStatus::name)
        .thenComparingLong(ModelStatus::version));
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("models");
      for (ModelStatus s : all) {
        g.writeStartObject();
        g.writeStringField("name", s.name());
        g.writeNumberField("version", s.version());
        g.writeStringField("state", s.state().name());
        if (s.metadata().isPresent() && !s.metadata().get().inputs().isEmpty()) {
          g.writeFieldName("inputShape");
          Json.writeShape(g, s.metadata().get().inputs().get(0).shape());
        }
        if (s.metadata().isPresent() && !s.metadata().get().outputs().isEmpty()) {
          g.writeFieldName("outputShape");
          Json.writeShape(g, s.metadata().get().outputs().get(0).shape());
        }
        if (s.loadedAt().isPresent()) {
          g.writeStringField("loadedAt", s.loadedAt().get().toString());
        }
        g.writeBooleanField("warmupComplete", s.warmedUp());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  void describe(Exchange ex) {
    String name = ex.param("name");
    List<ModelStatus> versions = new java.util.ArrayList<>(registry().versions(name));
    registry().registered().stream().filter(s -> s.name().equals(name)).forEach(versions::add);
    if (versions.isEmpty()) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "no model named '" + name + "'");
    }
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("name", name);
      g.writeArrayFieldStart("versions");
      for (ModelStatus s : versions) {
        NativeApi.writeStatus(g, s);
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  void unload(Exchange ex) {
    String name = ex.param("name");
    List<ModelStatus> versions = registry().versions(name);
    if (versions.isEmpty()) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "no model named '" + name + "'");
    }
    CompletableFuture<Void> unloading;
    String v = null;
    try {
      v = ex.param("v");
    } catch (IllegalStateException allVersions) {
      // DELETE /models/{name}: every version.
    }
    if (v == null) {
      unloading = registry().unload(name);
    } else {
      long version;
      try {
        version = Long.parseLong(v);
      } catch (NumberFormatException e) {
        throw HttpError.badField("version", "expected a version number, got '" + v + "'");
      }
      if (versions.stream().noneMatch(s -> s.version() == version)) {
        throw new ModelServingException(ErrorCode.VERSION_NOT_FOUND,
            "model '" + name + "' has no version " + version);
      }
      unloading = registry().unload(name, version);
    }
    String versionText = v;
    ex.jsonWhenDone(unloading, 200, (g, ok) -> {
      g.writeStartObject();
      g.writeStringField("name", name);
      if (versionText != null) {
        g.writeNumberField("version", Long.parseLong(versionText));
      }
      g.writeBooleanField("unloaded", true);
      g.writeEndObject();
    });
  }
}
