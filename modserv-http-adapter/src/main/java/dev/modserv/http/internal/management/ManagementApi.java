package dev.modserv.http.internal.management;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelRegistry;
import dev.modserv.core.ModelStatus;
import dev.modserv.http.internal.ClientText;
import dev.modserv.http.internal.DialectRoutes;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Versions;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.ModelRoot;
import dev.modserv.http.internal.Names;
import dev.modserv.http.internal.Routes;
import dev.modserv.http.internal.Settings;
import dev.modserv.http.internal.StatusJson;
import dev.modserv.http.internal.llm.Generations;
import dev.modserv.http.internal.nativeapi.NativeApi;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The management API, served only when a model root is configured: load models from inside that
 * root ({@code POST /models}), list, describe and unload them, and run one ({@code POST
 * /models/{name}/inference}: tensor inputs as {@code /api/predict}, or a {@code prompt}).
 */
public final class ManagementApi implements DialectRoutes {
  private final Settings settings;
  private final Path root;

  /** Manages {@code settings}' server; needs its model root. */
  public ManagementApi(Settings settings) {
    this.settings = settings;
    this.root = Objects.requireNonNull(settings.modelRoot(), "modelRoot");
  }

  @Override
  public void register(Routes routes) {
    NativeApi predict = new NativeApi(settings);
    ManagementGeneration gen = new ManagementGeneration(settings);
    // It touches the file system: off the I/O thread.
    routes.post("/models", this::load).blocking().management();
    routes.get("/models", this::list);
    routes.get("/models/{name}", this::describe);
    routes.delete("/models/{name}", this::unload).management();
    routes.delete("/models/{name}/versions/{v}", this::unload).management();
    routes.post("/models/{name}/inference", ex -> {
      if (Generations.asksForGeneration(ex)) {
        gen.generate(ex);
      } else {
        predict.modelInference(ex);
      }
    });
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
    String model = Names.model("name", name.asText());
    JsonNode path = body.get("path");
    if (path == null || !path.isTextual() || ClientText.hasControl(path.asText())) {
      throw HttpError.badField("path", "expected a path inside the model root");
    }
    JsonNode versionNode = body.get("version");
    long version;
    if (versionNode == null || versionNode.isNull()) {
      long highest = registry().versions(model).stream()
          .mapToLong(ModelStatus::version).max().orElse(0);
      if (highest == Long.MAX_VALUE) {
        throw HttpError.badField("version", "model '" + model + "' already has version "
            + highest + ", the highest there is: give a version");
      }
      version = highest + 1;
    } else {
      version = Versions.read("version", versionNode);
    }
    Path file = ModelRoot.loadable(root, path.asText());
    CompletableFuture<ModelStatus> loading = registry().load(model, version, file);
    ex.jsonWhenDone(loading, 201, StatusJson::write);
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
    String name = Names.model("name", ex.param("name"));
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
        StatusJson.write(g, s);
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  void unload(Exchange ex) {
    String name = Names.model("name", ex.param("name"));
    List<ModelStatus> versions = registry().versions(name);
    if (versions.isEmpty()) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "no model named '" + name + "'");
    }
    CompletableFuture<Void> unloading;
    String v = ex.optionalParam("v");
    if (v == null) { // DELETE /models/{name}: every version
      unloading = registry().unload(name);
    } else {
      long version = Versions.parse("version", v);
      if (versions.stream().noneMatch(s -> s.version() == version)) {
        throw new ModelServingException(ErrorCode.VERSION_NOT_FOUND,
            "model '" + name + "' has no version " + version);
      }
      unloading = registry().unload(name, version);
    }
    settings.readiness().unloaded(name);
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
