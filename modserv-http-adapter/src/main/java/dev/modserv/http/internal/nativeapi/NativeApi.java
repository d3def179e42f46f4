package dev.modserv.http.internal.nativeapi;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.DataType;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.core.ModelProcessing;
import dev.modserv.core.ModelStatus;
import dev.modserv.http.internal.ClientText;
import dev.modserv.http.internal.DialectRoutes;
import dev.modserv.http.internal.ErrorShape;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Versions;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.JsonTensor;
import dev.modserv.http.internal.Models;
import dev.modserv.http.internal.Names;
import dev.modserv.http.internal.Routes;
import dev.modserv.http.internal.Settings;
import dev.modserv.http.internal.StatusJson;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The native dialect: {@code POST /api/predict}, {@code POST /api/batch-predict}, {@code GET
 * /api/models}, {@code GET /api/health}, {@code POST /api/generate} with {@code inputs}, and the
 * camelCase {@code POST /predict} and {@code POST /batch-predict}.
 */
public record NativeApi(Settings settings) implements DialectRoutes {
  @Override
  public void register(Routes routes) {
    routes.get("/api/health", this::health).open();
    routes.get("/api/models", this::models);
    routes.post("/api/predict", this::predict);
    routes.post("/api/batch-predict", this::batchPredict);
    // Ollama's too, when that dialect is on: its route claims the bodies with a prompt.
    routes.post("/api/generate", this::predict);
    routes.post("/predict", this::camelPredict);
    routes.post("/batch-predict", this::camelBatchPredict);
  }

  void health(Exchange ex) {
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("status", "ok");
      g.writeStringField("version", settings.version());
      g.writeEndObject();
    }));
  }

  /** The field names of a predict request: snake-ish native or camelCase TensorFlow-serving style. */
  private record Dialect(String modelField, String versionField) {}

  private static final Dialect NATIVE = new Dialect("model", "version");
  private static final Dialect CAMEL = new Dialect("modelName", "modelVersion");

  /** A parsed predict request: tensors still untyped until the model's metadata is known. */
  private record Parsed(
      String model, @Nullable String version, @Nullable JsonTensor single,
      Map<String, JsonTensor> named, String prefix, ModelProcessing processing) {}

  void predict(Exchange ex) throws Exception {
    answer(ex, parseWhole(ex, NATIVE, null), NativeApi::writeResult);
  }

  /**
   * {@code POST /models/{name}/inference} (management): a predict request whose model is the
   * path's, e.g. {@code {"inputs": {"input_ids": [[101, 7592, 102]]}}}; answers as {@code
   * /api/predict}.
   */
  public void modelInference(Exchange ex) throws Exception {
    String name = Names.model("name", ex.param("name"));
    Parsed parsed = parseWhole(ex, NATIVE, name);
    if (!parsed.model().equals(name)) {
      throw HttpError.badField("model", "names '" + parsed.model() + "' but the path names '"
          + name + "'; leave it out");
    }
    answer(ex, parsed, NativeApi::writeResult);
  }

  /** Parses a body that is one predict request and nothing after it. */
  private Parsed parseWhole(Exchange ex, Dialect dialect, @Nullable String defaultModel)
      throws IOException {
    try (JsonParser p = Json.parser(ex.body())) {
      p.nextToken();
      Parsed parsed = parse(p, "", dialect, defaultModel, null);
      if (p.nextToken() != null) {
        throw HttpError.badField("", "unexpected content after the request object");
      }
      return parsed;
    }
  }

  /**
   * Writes a result of its request; latency counts from start, {@code topK} says whether the
   * processing applied answered top-k.
   */
  @FunctionalInterface
  private interface Render {
    void write(JsonGenerator g, InferenceResult result, InferenceRequest request, long startNanos,
        boolean topK) throws IOException;
  }

  /** Calls the model with the request's processing and answers 200 with {@code render}'s JSON. */
  private void answer(Exchange ex, Parsed parsed, Render render) throws Exception {
    InferenceRequest request = toRequest(parsed);
    boolean topK = answersTopK(parsed);
    settings.calls().infer(ex, request, parsed.processing(), result ->
        ex.json(200, Json.write(g -> render.write(g, result, request, ex.startNanos(), topK))));
  }

  /** Whether the processing that applies to the request (its own, else the model's) is top-k. */
  private boolean answersTopK(Parsed parsed) {
    return parsed.processing().orElse(settings.server().registry().config(parsed.model())
        .processing()).topK() > 0;
  }

  void batchPredict(Exchange ex) throws IOException {
    JsonNode root = Json.MAPPER.readTree(Json.parser(ex.body()));
    boolean object = root != null && root.isObject();
    JsonNode list = object ? root.get("requests") : root;
    if (list == null || !list.isArray()) {
      throw HttpError.badField("requests",
          "expected an array of requests (or {\"requests\": [...]})");
    }
    int chunk = chunkSize(object ? root.get("max_batch_size") : null, "max_batch_size", list);
    batch(ex, list, "requests", chunk, (p, prefix) -> parse(p, prefix, NATIVE, null, null),
        NativeApi::writeResult);
  }

  /**
   * The most items of a batch in flight at once: {@code max}, or all of them when it is absent;
   * a larger batch runs in chunks of that many, one after the other.
   */
  private static int chunkSize(@Nullable JsonNode max, String field, JsonNode list) {
    if (max == null || max.isNull()) {
      return Math.max(1, list.size());
    }
    if (!max.isIntegralNumber() || !max.canConvertToInt() || max.asInt() < 1) {
      throw HttpError.badField(field, "expected an integer >= 1, got " + max);
    }
    return max.asInt();
  }

  /** Reads one item of a batch. */
  @FunctionalInterface
  private interface ItemParser {
    Parsed parse(JsonParser p, String prefix) throws IOException;
  }

  /**
   * Runs the items of {@code list} (the field {@code field}) through the server, {@code chunk} at
   * once (the next chunk once the last is done), and answers {@code {"results": [...]}} once all
   * are done, each a result or an item error.
   */
  private void batch(Exchange ex, JsonNode list, String field, int chunk, ItemParser items,
      Render render) throws IOException {
    int n = list.size();
    List<CompletableFuture<byte[]>> results = new ArrayList<>(n);
    CompletableFuture<?> previous = CompletableFuture.completedFuture(null);
    for (int from = 0; from < n; from += chunk) {
      List<CompletableFuture<byte[]>> part = new ArrayList<>(chunk);
      for (int i = from; i < Math.min(n, from + chunk); i++) {
        part.add(item(ex, list.get(i), field + "[" + i + "].", items, render, previous));
      }
      results.addAll(part);
      previous = CompletableFuture.allOf(part.toArray(CompletableFuture[]::new));
    }
    answerAll(ex, results);
  }

  /** Parses one item now and runs it once {@code after} is done; a failure is its item error. */
  private CompletableFuture<byte[]> item(Exchange ex, JsonNode node, String prefix,
      ItemParser items, Render render, CompletableFuture<?> after) {
    CompletableFuture<byte[]> one;
    try (JsonParser p = node.traverse(Json.MAPPER)) {
      p.nextToken();
      Parsed parsed = items.parse(p, prefix);
      InferenceRequest request = toRequest(parsed);
      boolean topK = answersTopK(parsed);
      ex.modelCalled();
      one = after.thenCompose(ignored -> {
        long start = System.nanoTime();
        return settings.server().inferAsync(request, parsed.processing())
            .thenApply(r -> Json.write(g -> render.write(g, r, request, start, topK)));
      });
    } catch (RuntimeException | IOException e) {
      // One bad item is that item's error; the others are still answered.
      one = CompletableFuture.failedFuture(e);
    }
    return one.exceptionally(failure -> ErrorShape.BATCH_ITEM.render(ex.failure(failure)));
  }

  /**
   * {@code POST /predict}, the camelCase shape of TensorFlow-serving style clients: {@code
   * {modelName, modelVersion?, inputs}} answers {@code {predictions, modelVersion,
   * inferenceTimeMs, preprocessingTimeMs, postprocessingTimeMs}}.
   */
  void camelPredict(Exchange ex) throws Exception {
    answer(ex, parseWhole(ex, CAMEL, null), NativeApi::writeCamelResult);
  }

  /**
   * {@code POST /batch-predict}: {@code {modelName, modelVersion?, maxBatchSize?, preprocessing?,
   * postprocessing?, batch: [{inputs}]}} answers {@code {results: [...]}}, each a {@code /predict}
   * response or an error; a batch larger than {@code maxBatchSize} runs in chunks of that many.
   */
  void camelBatchPredict(Exchange ex) throws IOException {
    JsonNode root = Json.MAPPER.readTree(Json.parser(ex.body()));
    if (root == null || !root.isObject()) {
      throw HttpError.badField("", "expected an object {\"modelName\", \"batch\": [...]}");
    }
    ModelProcessing shared = RequestProcessing.read(root.get("preprocessing"),
        root.get("postprocessing"), "", settings.modelRoot());
    JsonNode name = root.get("modelName");
    if (name == null || !name.isTextual() || name.asText().isEmpty()) {
      throw HttpError.badField("modelName", name == null ? "is required"
          : "expected a model name, got " + Json.describe(name.asToken()));
    }
    String version = null;
    JsonNode v = root.get("modelVersion");
    if (v != null && !v.isNull()) {
      if (!(v.isIntegralNumber() || v.isTextual())) {
        throw HttpError.badField("modelVersion", "expected a version number or label, got "
            + Json.describe(v.asToken()));
      }
      version = Versions.versionOrLabel("modelVersion", v.asText());
    }
    JsonNode list = root.get("batch");
    if (list == null || !list.isArray()) {
      throw HttpError.badField("batch", "expected an array of {\"inputs\": ...} items");
    }
    int chunk = chunkSize(root.get("maxBatchSize"), "maxBatchSize", list);
    String model = Names.model("modelName", name.asText());
    String modelVersion = version;
    batch(ex, list, "batch", chunk, (p, prefix) -> {
      Parsed parsed = parse(p, prefix, CAMEL, model, modelVersion);
      return new Parsed(parsed.model(), parsed.version(), parsed.single(), parsed.named(),
          parsed.prefix(), parsed.processing().orElse(shared));
    }, NativeApi::writeCamelResult);
  }

  private static void answerAll(Exchange ex, List<CompletableFuture<byte[]>> results) {
    CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).whenComplete((v, f) -> {
      try {
        ex.json(200, Json.write(g -> {
          g.writeStartObject();
          g.writeArrayFieldStart("results");
          for (CompletableFuture<byte[]> r : results) {
            g.writeRawValue(new String(r.join(), java.nio.charset.StandardCharsets.UTF_8));
          }
          g.writeEndArray();
          g.writeEndObject();
        }));
      } catch (RuntimeException e) {
        ex.fail(e);
      }
    });
  }

  private static void writeCamelResult(JsonGenerator g, InferenceResult result,
      InferenceRequest request, long startNanos, boolean topK) throws IOException {
    g.writeStartObject();
    g.writeFieldName("predictions");
    Predictions.write(g, result, topK);
    g.writeNumberField("modelVersion", result.version());
    Predictions.writeMillis(g, result.timings());
    g.writeEndObject();
  }

  void models(Exchange ex) {
    List<ModelStatus> all = new ArrayList<>(settings.server().registry().models());
    all.addAll(settings.server().registry().registered());
    Map<String, List<ModelStatus>> byName = all.stream().collect(Collectors.groupingBy(
        ModelStatus::name, java.util.TreeMap::new, Collectors.toList()));
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeArrayFieldStart("models");
      for (var e : byName.entrySet()) {
        g.writeStartObject();
        g.writeStringField("name", e.getKey());
        g.writeArrayFieldStart("versions");
        for (ModelStatus s : e.getValue()) {
          StatusJson.write(g, s);
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  /**
   * Parses one predict request. {@code defaultModel} and {@code defaultVersion} apply when the
   * object names none (the items of {@code /batch-predict}).
   */
  private Parsed parse(JsonParser p, String prefix, Dialect dialect,
      @Nullable String defaultModel, @Nullable String defaultVersion) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw HttpError.badField(prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1),
          "expected an object, got " + Json.describe(p.currentToken()));
    }
    String model = defaultModel;
    String version = defaultVersion;
    JsonTensor single = null;
    Map<String, JsonTensor> named = new LinkedHashMap<>();
    boolean sawInputs = false;
    JsonNode pre = null;
    JsonNode post = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      if (field.equals(dialect.modelField())) {
        if (t != JsonToken.VALUE_STRING || p.getText().isEmpty()) {
          throw HttpError.badField(prefix + field, "expected a model name, got "
              + Json.describe(t));
        }
        model = Names.model(prefix + field, p.getText());
        continue;
      }
      if (field.equals(dialect.versionField())) {
        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_STRING) {
          version = Versions.versionOrLabel(prefix + field, p.getText());
        } else if (t != JsonToken.VALUE_NULL) {
          throw HttpError.badField(prefix + field, "expected a version number or label, got "
              + Json.describe(t));
        }
        continue;
      }
      switch (field) {
        case "preprocessing" -> pre = Json.MAPPER.readTree(p);
        case "postprocessing" -> post = Json.MAPPER.readTree(p);
        case "inputs" -> {
          sawInputs = true;
          if (t == JsonToken.START_ARRAY) {
            single = JsonTensor.read(p, prefix + "inputs");
          } else if (t == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String name = p.currentName();
              p.nextToken();
              if (name.isEmpty()) {
                throw HttpError.badField(prefix + "inputs", "an input's name must not be empty");
              }
              named.put(name, JsonTensor.read(p, prefix + "inputs." + name));
            }
          } else {
            throw HttpError.badField(prefix + "inputs",
                "expected an array of rows or an object of named inputs, got " + Json.describe(t));
          }
        }
        default -> p.skipChildren();
      }
    }
    ModelProcessing processing = RequestProcessing.read(pre, post, prefix, settings.modelRoot());
    if (model == null) {
      throw HttpError.badField(prefix + dialect.modelField(), "is required");
    }
    if (!sawInputs || (single == null && named.isEmpty())) {
      throw HttpError.badField(prefix + "inputs", "is required and must not be empty");
    }
    return new Parsed(model, version, single, named, prefix, processing);
  }

  private InferenceRequest toRequest(Parsed parsed) {
    ModelRef ref = parsed.version() == null ? ModelRef.of(parsed.model())
        : Versions.ref(parsed.model(), "version", parsed.version());
    Optional<ModelMetadata> metadata = Models.metadata(settings.server().registry(), ref);
    InferenceRequest.Builder b = InferenceRequest.builder(ref);
    String prefix = parsed.prefix();
    if (parsed.single() != null) {
      List<TensorSpec> inputs = metadata.map(ModelMetadata::inputs).orElse(List.of());
      if (metadata.isEmpty()) {
        throw HttpError.badField(prefix + "inputs", "model '" + parsed.model()
            + "' is not loaded yet, so its input names are unknown: give inputs as an object");
      }
      if (inputs.size() != 1) {
        throw HttpError.badField(prefix + "inputs", "model '" + parsed.model() + "' has "
            + inputs.size() + " inputs " + inputs.stream().map(TensorSpec::name).toList()
            + ": give inputs as an object of named inputs");
      }
      TensorSpec spec = inputs.get(0);
      b.input(spec.name(), tensor(parsed.single(), spec, prefix + "inputs"));
    } else {
      for (var e : parsed.named().entrySet()) {
        String path = prefix + "inputs." + e.getKey();
        TensorSpec spec;
        if (metadata.isPresent()) {
          spec = metadata.get().input(e.getKey()).orElseThrow(() -> HttpError.badField(path,
              "model '" + parsed.model() + "' has no input named " + ClientText.quote(e.getKey())
                  + "; it has "
                  + metadata.get().inputs().stream().map(TensorSpec::name).toList()));
        } else {
          spec = TensorSpec.ofUnknownRank(e.getKey(), DataType.FP32);
        }
        b.input(e.getKey(), tensor(e.getValue(), spec, path));
      }
    }
    return b.build();
  }

  /** Types the parsed array as the input's data type; a single row gains a batch dimension. */
  private static Tensor tensor(JsonTensor json, TensorSpec spec, String path) {
    long[] shape = json.shape();
    if (spec.isRankKnown() && shape.length == spec.rank() - 1 && spec.hasDynamicFirstDimension()) {
      long[] batched = new long[shape.length + 1];
      batched[0] = 1;
      System.arraycopy(shape, 0, batched, 1, shape.length);
      shape = batched;
    }
    return json.toTensor(spec.dataType(), shape, path);
  }

  // The answer's field names, quoted and encoded once: every predict answer writes them.
  private static final SerializableString MODEL = new SerializedString("model");
  private static final SerializableString VERSION = new SerializedString("version");
  private static final SerializableString OUTPUTS = new SerializedString("outputs");
  private static final SerializableString N_SAMPLES = new SerializedString("n_samples");
  private static final SerializableString LATENCY_US = new SerializedString("latency_us");
  private static final SerializableString DONE = new SerializedString("done");

  private static void writeResult(JsonGenerator g, InferenceResult result,
      InferenceRequest request, long startNanos, boolean topK) throws IOException {
    g.writeStartObject();
    g.writeFieldName(MODEL);
    g.writeString(result.model());
    g.writeFieldName(VERSION);
    g.writeNumber(result.version());
    g.writeFieldName(OUTPUTS);
    Predictions.write(g, result, topK);
    g.writeFieldName(N_SAMPLES);
    g.writeNumber(request.rows());
    g.writeFieldName(LATENCY_US);
    g.writeNumber((System.nanoTime() - startNanos) / 1000);
    Predictions.writeMicros(g, result.timings());
    g.writeFieldName(DONE);
    g.writeBoolean(true);
    g.writeEndObject();
  }
}
