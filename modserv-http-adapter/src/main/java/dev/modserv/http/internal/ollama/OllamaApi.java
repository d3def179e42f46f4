package dev.modserv.http.internal.ollama;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.Capability;
import dev.modserv.api.ModelMetadata;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.http.internal.DialectRoutes;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.Models;
import dev.modserv.http.internal.Names;
import dev.modserv.http.internal.Routes;
import dev.modserv.http.internal.Settings;
import dev.modserv.http.internal.llm.Embeddings;
import dev.modserv.http.internal.llm.Generations;
import dev.modserv.http.internal.llm.LlmRequests;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The Ollama dialect ({@code /api/...}): its liveness answer ({@code /}), version, model listings,
 * embeddings and text generation ({@link OllamaGeneration}), with errors as {@code {"error":
 * "..."}}.
 */
public record OllamaApi(Settings settings) implements DialectRoutes {
  private static final byte[] OLLAMA_RUNNING = "Ollama is running".getBytes(StandardCharsets.UTF_8);



  @Override
  public void register(Routes routes) {
    OllamaGeneration gen = new OllamaGeneration(settings);
    // "/" is Ollama's liveness answer, open like /health.
    routes.get("/", this::running).open();
    routes.head("/", this::running).open();
    routes.get("/api/version", this::version).open();
    routes.head("/api/version", this::version).open();
    routes.get("/api/tags", this::tags);
    routes.head("/api/tags", this::tags);
    routes.get("/api/ps", this::ps);
    routes.post("/api/show", this::show);
    routes.post("/api/embed", this::embed);
    routes.post("/api/embeddings", this::embeddings);
    routes.post("/api/chat", ex -> gen.generate(ex, true));
    // The native dialect's /api/generate too, when it is on: the bodies with a prompt are ours,
    // and the prompt-less ones (a load) for a model that generates.
    routes.post("/api/generate", ex -> gen.generate(ex, false))
        .claims(ex -> Generations.asksForOllamaGeneration(settings, ex));
  }

  /**
   * {@code POST /api/embed}: {@code {model, input: string | string[], truncate?, dimensions?}}
   * answers {@code {model, embeddings, total_duration, load_duration, prompt_eval_count}}.
   */
  void embed(Exchange ex) throws Exception {
    JsonNode body = LlmRequests.object(ex);
    Embeddings.Request req = Embeddings.read(body, "input");
    JsonNode truncate = body.get("truncate");
    if (truncate != null && !truncate.isNull() && !truncate.isBoolean()) {
      throw HttpError.badField("truncate", "expected true or false");
    }
    // Texts longer than the model's limit are always truncated (docs/onnx.md): truncate=false
    // cannot be honoured, so it is refused rather than ignored.
    if (truncate != null && truncate.isBoolean() && !truncate.asBoolean()) {
      throw HttpError.badField("truncate", "false is not supported: texts longer than the model's"
          + " limit are truncated");
    }
    Duration keepAlive = OllamaKeepAlive.read(body.get("keep_alive"));
    Models.status(settings.server().registry(), Names.ref("model", req.model()));
    OllamaKeepAlive.apply(settings.server().registry(), req.model(), keepAlive);
    Embeddings.embed(settings, ex, req, (g, vectors, tokens) -> {
      g.writeStartObject();
      g.writeStringField("model", req.model());
      g.writeArrayFieldStart("embeddings");
      for (float[] v : vectors) {
        g.writeArray(Embeddings.toDoubles(v), 0, v.length);
      }
      g.writeEndArray();
      g.writeNumberField("total_duration", System.nanoTime() - ex.startNanos());
      // Models load before or beside requests, never inside one.
      g.writeNumberField("load_duration", 0);
      if (tokens >= 0) {
        g.writeNumberField("prompt_eval_count", tokens);
      }
      g.writeEndObject();
    });
  }

  /** {@code POST /api/embeddings}, Ollama's older form: {@code {model, prompt}}. */
  void embeddings(Exchange ex) throws Exception {
    JsonNode body = LlmRequests.object(ex);
    Embeddings.Request req = Embeddings.read(body, "prompt");
    if (req.texts().size() != 1) {
      throw HttpError.badField("prompt", "expected one string");
    }
    Embeddings.embed(settings, ex, req, (g, vectors, tokens) -> {
      g.writeStartObject();
      g.writeFieldName("embedding");
      g.writeArray(Embeddings.toDoubles(vectors[0]), 0, vectors[0].length);
      g.writeEndObject();
    });
  }

  /** {@code GET /api/tags}: every model, with the version that serves it now. */
  void tags(Exchange ex) {
    Map<String, List<ModelStatus>> byName = Models.byName(settings.server().registry());
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("models");
      for (var e : byName.entrySet()) {
        ModelStatus s = serving(e.getValue());
        writeModel(g, e.getKey(), s, false);
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  /** {@code GET /api/ps}: the versions loaded now. */
  void ps(Exchange ex) {
    List<ModelStatus> loaded = settings.server().registry().models().stream()
        .filter(s -> s.state() == ModelState.READY).toList();
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("models");
      for (ModelStatus s : loaded) {
        writeModel(g, psName(s, loaded), s, true);
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  /**
   * The name {@code /api/tags} gives the version a request by name reaches (the highest READY
   * one): the model's name; another loaded version is {@code name:version}, the name that reaches
   * it.
   */
  private static String psName(ModelStatus s, List<ModelStatus> loaded) {
    boolean serving = loaded.stream().filter(o -> o.name().equals(s.name()))
        .allMatch(o -> o.version() <= s.version());
    return serving ? s.name() : s.name() + ":" + s.version();
  }

  /** {@code POST /api/show} {@code {model}}: details, inputs and outputs, capabilities. */
  void show(Exchange ex) throws IOException {
    JsonNode body = LlmRequests.object(ex);
    String model = LlmRequests.text(body, "model", null);
    ModelStatus s = Models.status(settings.server().registry(), Names.ref("model", model));
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      writeDetails(g, s);
      g.writeObjectFieldStart("model_info");
      Map<String, String> props = s.metadata().map(ModelMetadata::properties).orElse(Map.of());
      String architecture = props.getOrDefault("architecture",
          s.metadata().map(ModelMetadata::engine).orElse(""));
      g.writeStringField("general.architecture", architecture);
      // Ollama's keys for what a GGUF header says, as its clients read them.
      Json.writeCount(g, "general.parameter_count", props.get("parameters"));
      Json.writeCount(g, architecture + ".context_length", props.get("context-length"));
      Json.writeCount(g, architecture + ".embedding_length", props.get("embedding-length"));
      Json.writeCount(g, architecture + ".block_count", props.get("block-count"));
      Json.writeCount(g, architecture + ".attention.head_count", props.get("head-count"));
      Json.writeCount(g, architecture + ".attention.head_count_kv", props.get("head-count-kv"));
      if (s.metadata().isPresent()) {
        for (var p : s.metadata().get().properties().entrySet()) {
          g.writeStringField(p.getKey(), p.getValue());
        }
        s.metadata().get().output(Capability.EMBEDDING_OUTPUT)
            .filter(o -> o.rank() == 2 && o.shape()[1] > 0)
            .ifPresent(o -> writeNumber(g, "embedding_length", o.shape()[1]));
      }
      g.writeEndObject();
      g.writeArrayFieldStart("capabilities");
      for (String c : capabilities(s)) {
        g.writeString(c);
      }
      g.writeEndArray();
      if (s.loadedAt().isPresent()) {
        g.writeStringField("modified_at", s.loadedAt().get().toString());
      }
      g.writeEndObject();
    }));
  }

  private static void writeNumber(JsonGenerator g, String field, long value) {
    try {
      g.writeNumberField(field, value);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void writeModel(JsonGenerator g, String name, ModelStatus s,
      boolean loaded) throws IOException {
    g.writeStartObject();
    g.writeStringField("name", name);
    g.writeStringField("model", name);
    if (s.loadedAt().isPresent()) {
      g.writeStringField("modified_at", s.loadedAt().get().toString());
    }
    g.writeNumberField("size", s.memoryBytes());
    if (loaded) {
      // CPU engines: nothing is held in GPU memory.
      g.writeNumberField("size_vram", 0);
    }
    writeDetails(g, s);
    g.writeEndObject();
  }

  private static void writeDetails(JsonGenerator g, ModelStatus s) throws IOException {
    g.writeObjectFieldStart("details");
    g.writeStringField("format", s.metadata().map(ModelMetadata::engine).orElse(""));
    Map<String, String> props = s.metadata().map(ModelMetadata::properties).orElse(Map.of());
    // What Ollama's details say of a GGUF; other engines' models have no such facts.
    if (props.containsKey("architecture")) {
      g.writeStringField("family", props.get("architecture"));
      g.writeArrayFieldStart("families");
      g.writeString(props.get("architecture"));
      g.writeEndArray();
    }
    if (props.containsKey("parameter-size")) {
      g.writeStringField("parameter_size", props.get("parameter-size"));
    }
    if (props.containsKey("quantization")) {
      g.writeStringField("quantization_level", props.get("quantization"));
    }
    g.writeStringField("state", s.state().name());
    g.writeNumberField("version", s.version());
    g.writeEndObject();
  }

  private static List<String> capabilities(ModelStatus s) {
    List<String> out = new ArrayList<>();
    s.metadata().ifPresent(m -> {
      if (m.capabilities().contains(Capability.GENERATIVE)) {
        out.add("completion");
      }
      if (m.capabilities().contains(Capability.EMBEDDING)) {
        out.add("embedding");
      }
    });
    return out;
  }

  /** The version a request by name reaches: the highest READY one, else the highest. */
  private static ModelStatus serving(List<ModelStatus> versions) {
    return versions.stream().filter(s -> s.state() == ModelState.READY)
        .max(Comparator.comparingLong(ModelStatus::version))
        .orElseGet(() -> versions.stream().max(Comparator.comparingLong(ModelStatus::version))
            .orElseThrow());
  }

  /** {@code GET /} and {@code HEAD /}: what Ollama clients check before anything else. */
  void running(Exchange ex) {
    ex.send(200, "text/plain; charset=utf-8", OLLAMA_RUNNING);
  }

  /** {@code GET /api/version}. */
  void version(Exchange ex) {
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("version", settings.version());
      g.writeEndObject();
    }));
  }
}
