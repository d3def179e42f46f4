package dev.modserv.http.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The OpenAI ({@code /v1/...}) and Ollama ({@code /api/...}) dialects: embeddings, model listings
 * and the Ollama liveness answer. Text generation is {@link LlmGeneration}.
 */
final class LlmApis {
  private static final byte[] OLLAMA_RUNNING = "Ollama is running".getBytes(StandardCharsets.UTF_8);

  private final Settings settings;

  LlmApis(Settings settings) {
    this.settings = settings;
  }

  // ------------------------------------------------------------------------------ embeddings

  /** The texts of an embedding request and the model that embeds them. */
  private record EmbedRequest(String model, List<String> texts, @Nullable Integer dimensions) {}

  /**
   * {@code POST /v1/embeddings}: {@code {model, input: string | string[], encoding_format?,
   * dimensions?}}.
   */
  void openAiEmbeddings(Exchange ex) throws Exception {
    JsonNode body = object(ex);
    EmbedRequest req = embedRequest(body, "input");
    String format = text(body, "encoding_format", "float");
    if (!format.equals("float") && !format.equals("base64")) {
      throw HttpError.badField("encoding_format", "expected \"float\" or \"base64\", got \""
          + format + "\"");
    }
    boolean base64 = format.equals("base64");
    embed(ex, req, (g, vectors, tokens) -> {
      g.writeStartObject();
      g.writeStringField("object", "list");
      g.writeArrayFieldStart("data");
      for (int i = 0; i < vectors.length; i++) {
        g.writeStartObject();
        g.writeStringField("object", "embedding");
        if (base64) {
          ByteBuffer bytes = ByteBuffer.allocate(vectors[i].length * 4)
              .order(ByteOrder.LITTLE_ENDIAN);
          bytes.asFloatBuffer().put(vectors[i]);
          g.writeStringField("embedding", Base64.getEncoder().encodeToString(bytes.array()));
        } else {
          g.writeFieldName("embedding");
          g.writeArray(toDoubles(vectors[i]), 0, vectors[i].length);
        }
        g.writeNumberField("index", i);
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeStringField("model", req.model());
      if (tokens >= 0) {
        g.writeObjectFieldStart("usage");
        g.writeNumberField("prompt_tokens", tokens);
        g.writeNumberField("total_tokens", tokens);
        g.writeEndObject();
      }
      g.writeEndObject();
    });
  }

  /**
   * {@code POST /api/embed}: {@code {model, input: string | string[], truncate?, dimensions?}}
   * answers {@code {model, embeddings, total_duration, load_duration, prompt_eval_count}}.
   */
  void ollamaEmbed(Exchange ex) throws Exception {
    JsonNode body = object(ex);
    EmbedRequest req = embedRequest(body, "input");
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
    java.time.Duration keepAlive = OllamaKeepAlive.read(body.get("keep_alive"));
    Models.status(settings.server().registry(), ModelRef.parse(req.model()));
    OllamaKeepAlive.apply(settings.server().registry(), req.model(), keepAlive);
    embed(ex, req, (g, vectors, tokens) -> {
      g.writeStartObject();
      g.writeStringField("model", req.model());
      g.writeArrayFieldStart("embeddings");
      for (float[] v : vectors) {
        g.writeArray(toDoubles(v), 0, v.length);
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
  void ollamaEmbeddings(Exchange ex) throws Exception {
    JsonNode body = object(ex);
    EmbedRequest req = embedRequest(body, "prompt");
    if (req.texts().size() != 1) {
      throw HttpError.badField("prompt", "expected one string");
    }
    embed(ex, req, (g, vectors, tokens) -> {
      g.writeStartObject();
      g.writeFieldName("embedding");
      g.writeArray(toDoubles(vectors[0]), 0, vectors[0].length);
      g.writeEndObject();
    });
  }

  @FunctionalInterface
  private interface EmbeddingWriter {
    void write(JsonGenerator g, float[][] vectors, long tokens) throws IOException;
  }

  private void embed(Exchange ex, EmbedRequest req, EmbeddingWriter writer) throws Exception {
    ModelRef ref = ModelRef.parse(req.model());
    Optional<ModelMetadata> metadata = Models.metadata(settings.server().registry(), ref);
    if (metadata.isPresent()
        && !metadata.get().capabilities().contains(Capability.EMBEDDING)) {
      throw HttpError.badField("model", "model '" + req.model() + "' does not embed text; it takes "
          + metadata.get().inputs().stream().map(TensorSpec::name).toList());
    }
    if (req.dimensions() != null && metadata.isPresent()) {
      TensorSpec out = metadata.get().output(Capability.EMBEDDING_OUTPUT).orElse(null);
      long dims = out == null || out.rank() != 2 ? -1 : out.shape()[1];
      if (dims > 0 && dims != req.dimensions()) {
        throw HttpError.badField("dimensions", "model '" + req.model() + "' gives " + dims
            + " dimensions and cannot shorten them; leave dimensions out or give " + dims);
      }
    }
    InferenceRequest.Builder b = InferenceRequest.builder(ref)
        .input(Capability.EMBEDDING_INPUT,
            Tensor.of(req.texts().toArray(String[]::new), req.texts().size()));
    if (settings.requestTimeout() != null) {
      b.timeout(settings.requestTimeout());
    }
    int n = req.texts().size();
    settings.calls().infer(ex, b.build(), result -> ex.json(200, Json.write(g -> {
      float[][] vectors = vectors(result, req.model(), n);
      // -1: the model does not count tokens (no such output); usage is left out then.
      long tokens = -1;
      Optional<Tensor> counts = result.output(Capability.EMBEDDING_TOKENS);
      if (counts.isPresent()) {
        tokens = 0;
        for (long c : counts.get().toLongArray()) {
          tokens += c;
        }
      }
      writer.write(g, vectors, tokens);
    })));
  }

  private static float[][] vectors(InferenceResult result, String model, int n) {
    Tensor t = result.output(Capability.EMBEDDING_OUTPUT).orElseThrow(() ->
        new ModelServingException(ErrorCode.INVALID_INPUT, "model '" + model + "' gives no '"
            + Capability.EMBEDDING_OUTPUT + "' output; it is not an embedding model"));
    if (t.rank() != 2 || t.dim(0) != n) {
      throw new ModelServingException(ErrorCode.BACKEND_ERROR, "model '" + model + "' returned "
          + java.util.Arrays.toString(t.shape()) + " for " + n + " texts");
    }
    int d = (int) t.dim(1);
    FloatBuffer all = t.floatBuffer();
    float[][] out = new float[n][d];
    for (float[] row : out) {
      all.get(row);
    }
    return out;
  }

  private static double[] toDoubles(float[] v) {
    // Jackson writes doubles as the shortest text that reads back to the same double; a float
    // widened first keeps the float's own digits (0.1f -> 0.10000000149011612, as OpenAI prints).
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }

  private static EmbedRequest embedRequest(JsonNode body, String field) {
    String model = text(body, "model", null);
    JsonNode input = body.get(field);
    List<String> texts = new ArrayList<>();
    if (input == null || input.isNull()) {
      throw HttpError.badField(field, "is required: a string or an array of strings");
    } else if (input.isTextual()) {
      texts.add(input.asText());
    } else if (input.isArray()) {
      for (int i = 0; i < input.size(); i++) {
        JsonNode item = input.get(i);
        if (!item.isTextual()) {
          throw HttpError.badField(field + "[" + i + "]", "expected a string, got "
              + Json.describe(item.asToken()) + (item.isNumber() || item.isArray()
              ? " (token arrays are not supported: send the text)" : ""));
        }
        texts.add(item.asText());
      }
      if (texts.isEmpty()) {
        throw HttpError.badField(field, "must not be empty");
      }
    } else {
      throw HttpError.badField(field, "expected a string or an array of strings, got "
          + Json.describe(input.asToken()));
    }
    Integer dimensions = null;
    JsonNode d = body.get("dimensions");
    if (d != null && !d.isNull()) {
      if (!d.canConvertToInt() || !d.isIntegralNumber() || d.asInt() < 1) {
        throw HttpError.badField("dimensions", "expected a positive integer, got " + d);
      }
      dimensions = d.asInt();
    }
    return new EmbedRequest(model, texts, dimensions);
  }

  // ------------------------------------------------------------------------------ listings

  /** {@code GET /v1/models}: every model by name. */
  void openAiModels(Exchange ex) {
    Map<String, List<ModelStatus>> byName = byName();
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("object", "list");
      g.writeArrayFieldStart("data");
      for (var e : byName.entrySet()) {
        writeOpenAiModel(g, e.getKey(), e.getValue());
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  /** {@code GET /v1/models/{model}}. */
  void openAiModel(Exchange ex) {
    String name = ex.param("model");
    List<ModelStatus> versions = settings.server().registry().versions(name);
    if (versions.isEmpty()) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "model '" + name
          + "' not found");
    }
    ex.json(200, Json.write(g -> writeOpenAiModel(g, name, versions)));
  }

  private static void writeOpenAiModel(JsonGenerator g, String name, List<ModelStatus> versions)
      throws IOException {
    g.writeStartObject();
    g.writeStringField("id", name);
    g.writeStringField("object", "model");
    g.writeNumberField("created", versions.stream().flatMap(s -> s.loadedAt().stream())
        .min(Comparator.naturalOrder()).map(Instant::getEpochSecond).orElse(0L));
    g.writeStringField("owned_by", "modserv");
    g.writeEndObject();
  }

  /** {@code GET /api/tags}: every model, with the version that serves it now. */
  void ollamaTags(Exchange ex) {
    Map<String, List<ModelStatus>> byName = byName();
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("models");
      for (var e : byName.entrySet()) {
        ModelStatus s = serving(e.getValue());
        writeOllamaModel(g, e.getKey(), s, false);
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  /** {@code GET /api/ps}: the versions loaded now. */
  void ollamaPs(Exchange ex) {
    List<ModelStatus> loaded = settings.server().registry().models().stream()
        .filter(s -> s.state() == ModelState.READY).toList();
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("models");
      for (ModelStatus s : loaded) {
        writeOllamaModel(g, s.name() + ":" + s.version(), s, true);
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  /** {@code POST /api/show} {@code {model}}: details, inputs and outputs, capabilities. */
  void ollamaShow(Exchange ex) throws IOException {
    JsonNode body = object(ex);
    String model = text(body, "model", null);
    ModelStatus s = Models.status(settings.server().registry(), ModelRef.parse(model));
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      writeDetails(g, s);
      g.writeObjectFieldStart("model_info");
      g.writeStringField("general.architecture", s.metadata().map(ModelMetadata::engine)
          .orElse(""));
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

  private static void writeOllamaModel(JsonGenerator g, String name, ModelStatus s,
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

  private Map<String, List<ModelStatus>> byName() {
    return settings.server().registry().models().stream().collect(Collectors.groupingBy(
        ModelStatus::name, LinkedHashMap::new, Collectors.toList()));
  }

  /** The version a request by name reaches: the highest READY one, else the highest. */
  private static ModelStatus serving(List<ModelStatus> versions) {
    return versions.stream().filter(s -> s.state() == ModelState.READY)
        .max(Comparator.comparingLong(ModelStatus::version))
        .orElseGet(() -> versions.stream().max(Comparator.comparingLong(ModelStatus::version))
            .orElseThrow());
  }

  // ------------------------------------------------------------------------------ the rest

  /** {@code GET /} and {@code HEAD /}: what Ollama clients check before anything else. */
  void ollamaRunning(Exchange ex) {
    ex.send(200, "text/plain; charset=utf-8", OLLAMA_RUNNING);
  }

  /** {@code GET /api/version}. */
  void ollamaVersion(Exchange ex) {
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("version", settings.version());
      g.writeEndObject();
    }));
  }

  // ------------------------------------------------------------------------------ parsing

  /** Reads the body as a JSON object, or 400. */
  static JsonNode object(Exchange ex) throws IOException {
    JsonNode root = Json.MAPPER.readTree(Json.parser(ex.body()));
    if (root == null || !root.isObject()) {
      throw HttpError.badField("", "expected a JSON object");
    }
    return root;
  }

  /** Reads a non-empty string field: {@code otherwise} when absent, or 400 when it is null. */
  static String text(JsonNode body, String field, @Nullable String otherwise) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      if (otherwise == null) {
        throw HttpError.badField(field, "is required");
      }
      return otherwise;
    }
    if (!n.isTextual() || n.asText().isEmpty()) {
      throw HttpError.badField(field, "expected a non-empty string, got "
          + Json.describe(n.asToken()));
    }
    return n.asText();
  }
}
