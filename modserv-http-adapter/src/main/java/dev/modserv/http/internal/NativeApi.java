package dev.modserv.http.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.DataType;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.core.ModelStatus;
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
 * /api/models}.
 */
final class NativeApi {
  private final Settings settings;

  NativeApi(Settings settings) {
    this.settings = settings;
  }

  /** The field names of a predict request: snake-ish native or camelCase TensorFlow-serving style. */
  private record Dialect(String modelField, String versionField) {}

  private static final Dialect NATIVE = new Dialect("model", "version");
  private static final Dialect CAMEL = new Dialect("modelName", "modelVersion");

  /** A parsed predict request: tensors still untyped until the model's metadata is known. */
  private record Parsed(
      String model, @Nullable String version, @Nullable JsonTensor single,
      Map<String, JsonTensor> named, String prefix, Processing.Plan plan) {}

  void predict(Exchange ex) throws Exception {
    Parsed parsed = parseWhole(ex, NATIVE, null);
    InferenceRequest request = toRequest(parsed);
    answer(ex, request, parsed.plan(),
        (result, plan) -> Json.write(g -> writeResult(g, result, request, ex.startNanos(), plan)));
  }

  /**
   * {@code POST /models/{name}/inference} (management): a predict request whose model is the
   * path's, e.g. {@code {"inputs": {"input_ids": [[101, 7592, 102]]}}}; answers as {@code
   * /api/predict}.
   */
  void modelInference(Exchange ex) throws Exception {
    String name = ex.param("name");
    Parsed parsed = parseWhole(ex, NATIVE, name);
    if (!parsed.model().equals(name)) {
      throw HttpError.badField("model", "names '" + parsed.model() + "' but the path names '"
          + name + "'; leave it out");
    }
    InferenceRequest request = toRequest(parsed);
    answer(ex, request, parsed.plan(),
        (result, plan) -> Json.write(g -> writeResult(g, result, request, ex.startNanos(), plan)));
  }

  /** Parses a body that is one predict request and nothing after it. */
  private static Parsed parseWhole(Exchange ex, Dialect dialect, @Nullable String defaultModel)
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

  /** Renders a result with the request's processing plan. */
  @FunctionalInterface
  private interface Render {
    byte[] render(InferenceResult result, Processing.Plan plan);
  }

  /** Calls the model, timing the plan's stages, and answers 200 with {@code render}'s JSON. */
  private void answer(Exchange ex, InferenceRequest request, Processing.Plan plan, Render render)
      throws Exception {
    plan.submitted();
    settings.calls().infer(ex, request, result -> {
      plan.inferred();
      ex.json(200, render.render(result, plan));
    });
  }

  void batchPredict(Exchange ex) throws IOException {
    JsonNode root = Json.MAPPER.readTree(Json.parser(ex.body()));
    JsonNode list = root != null && root.isObject() ? root.get("requests") : root;
    if (list == null || !list.isArray()) {
      throw HttpError.badField("requests",
          "expected an array of requests (or {\"requests\": [...]})");
    }
    int n = list.size();
    List<CompletableFuture<byte[]>> results = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String prefix = "requests[" + i + "].";
      CompletableFuture<byte[]> one;
      try (JsonParser p = list.get(i).traverse(Json.MAPPER)) {
        p.nextToken();
        Parsed parsed = parse(p, prefix, NATIVE, null, null);
        InferenceRequest request = toRequest(parsed);
        long start = System.nanoTime();
        Processing.Plan plan = parsed.plan();
        plan.submitted();
        one = settings.server().inferAsync(request).thenApply(r -> {
          plan.inferred();
          return Json.write(g -> writeResult(g, r, request, start, plan));
        });
      } catch (HttpError | ModelServingException e) {
        one = CompletableFuture.failedFuture(e);
      }
      results.add(one.exceptionally(NativeApi::itemError));
    }
    answerAll(ex, results);
  }

  private static byte[] itemError(Throwable failure) {
    Throwable t = Exchange.unwrap(failure);
    int status;
    String message = String.valueOf(t.getMessage());
    var serving = ModelServingException.find(t);
    if (serving.isPresent()) {
      status = ErrorStatus.of(serving.get().code());
    } else if (t instanceof HttpError e) {
      status = e.status();
    } else {
      status = 500;
      message = "internal error";
    }
    int s = status;
    String m = message;
    return Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("error", m);
      g.writeNumberField("status", s);
      serving.ifPresent(e -> {
        try {
          g.writeStringField("code", e.code().name());
        } catch (IOException io) {
          throw new java.io.UncheckedIOException(io);
        }
      });
      g.writeEndObject();
    });
  }

  /**
   * {@code POST /predict}, the camelCase shape of TensorFlow-serving style clients: {@code
   * {modelName, modelVersion?, inputs}} answers {@code {predictions, modelVersion,
   * inferenceTimeMs, preprocessingTimeMs, postprocessingTimeMs}}.
   */
  void camelPredict(Exchange ex) throws Exception {
    Parsed parsed = parseWhole(ex, CAMEL, null);
    answer(ex, toRequest(parsed), parsed.plan(),
        (result, plan) -> Json.write(g -> writeCamelResult(g, result, plan)));
  }

  /**
   * {@code POST /batch-predict}: {@code {modelName, modelVersion?, maxBatchSize?, batch:
   * [{inputs}]}} answers {@code {results: [...]}}, each a {@code /predict} response or an error.
   */
  void camelBatchPredict(Exchange ex) throws IOException {
    JsonNode root = Json.MAPPER.readTree(Json.parser(ex.body()));
    if (root == null || !root.isObject()) {
      throw HttpError.badField("", "expected an object {\"modelName\", \"batch\": [...]}");
    }
    Processing.Pre pre = root.hasNonNull("preprocessing")
        ? Processing.readPre(root.get("preprocessing"), "preprocessing") : null;
    Processing.Post post = root.hasNonNull("postprocessing")
        ? Processing.readPost(root.get("postprocessing"), "postprocessing") : null;
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
      version = v.asText();
    }
    JsonNode list = root.get("batch");
    if (list == null || !list.isArray()) {
      throw HttpError.badField("batch", "expected an array of {\"inputs\": ...} items");
    }
    JsonNode max = root.get("maxBatchSize");
    if (max != null && !max.isNull()) {
      if (!max.canConvertToInt() || !max.isIntegralNumber() || max.asInt() < 1) {
        throw HttpError.badField("maxBatchSize", "expected a positive integer, got " + max);
      }
      if (list.size() > max.asInt()) {
        throw HttpError.badField("batch", "has " + list.size() + " items, more than maxBatchSize "
            + max.asInt());
      }
    }
    int n = list.size();
    List<CompletableFuture<byte[]>> results = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String prefix = "batch[" + i + "].";
      CompletableFuture<byte[]> one;
      try (JsonParser p = list.get(i).traverse(Json.MAPPER)) {
        p.nextToken();
        Parsed parsed = parse(p, prefix, CAMEL, name.asText(), version);
        Processing.Plan plan = parsed.plan();
        plan.pre = plan.pre == null ? pre : plan.pre;
        plan.post = plan.post == null ? post : plan.post;
        InferenceRequest request = toRequest(parsed);
        plan.submitted();
        one = settings.server().inferAsync(request).thenApply(r -> {
          plan.inferred();
          return Json.write(g -> writeCamelResult(g, r, plan));
        });
      } catch (HttpError | ModelServingException e) {
        one = CompletableFuture.failedFuture(e);
      }
      results.add(one.exceptionally(NativeApi::itemError));
    }
    answerAll(ex, results);
  }

  /**
   * {@code POST /api/generate}: with {@code inputs}, the same as {@code /api/predict}; with a
   * {@code prompt}, Ollama's generation ({@code generation}).
   */
  void generate(Exchange ex, Router.RouteHandler generation) throws Exception {
    if (wantsGeneration(ex)) {
      generation.handle(ex);
      return;
    }
    predict(ex);
  }

  /**
   * {@code POST /models/{name}/inference}: tensor inputs as {@link #modelInference(Exchange)}, or
   * a {@code prompt} for a generative model ({@code generation}).
   */
  void modelInference(Exchange ex, Router.RouteHandler generation) throws Exception {
    if (wantsGeneration(ex)) {
      generation.handle(ex);
      return;
    }
    modelInference(ex);
  }

  /** Whether the body asks for generation ({@code prompt}) rather than prediction. */
  private static boolean wantsGeneration(Exchange ex) throws IOException {
    boolean inputs = false;
    boolean prompt = false;
    try (JsonParser p = Json.parser(ex.body())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw HttpError.badField("", "expected an object, got " + Json.describe(p.currentToken()));
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        p.nextToken();
        inputs |= field.equals("inputs");
        prompt |= field.equals("prompt");
        p.skipChildren();
      }
    }
    if (inputs && prompt) {
      throw HttpError.badField("", "give either inputs (prediction) or prompt (generation), not"
          + " both");
    }
    return prompt;
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
      Processing.Plan plan) throws IOException {
    g.writeStartObject();
    g.writeFieldName("predictions");
    if (plan.hasPost()) {
      plan.writeOutputs(g, result);
    } else {
      writeOutputs(g, result);
    }
    g.writeNumberField("modelVersion", result.version());
    plan.writeMillis(g);
    g.writeEndObject();
  }

  private static void writeOutputs(JsonGenerator g, InferenceResult result) throws IOException {
    Map<String, Tensor> outputs = result.outputs();
    if (outputs.size() == 1) {
      Json.writeNested(g, outputs.values().iterator().next());
    } else {
      g.writeStartObject();
      for (var e : outputs.entrySet()) {
        g.writeFieldName(e.getKey());
        Json.writeNested(g, e.getValue());
      }
      g.writeEndObject();
    }
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
          writeStatus(g, s);
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  static void writeStatus(JsonGenerator g, ModelStatus s) throws IOException {
    g.writeStartObject();
    g.writeNumberField("version", s.version());
    g.writeStringField("state", s.state().name());
    g.writeArrayFieldStart("labels");
    for (String l : s.labels().stream().sorted().toList()) {
      g.writeString(l);
    }
    g.writeEndArray();
    if (s.metadata().isPresent()) {
      g.writeStringField("engine", s.metadata().get().engine());
      Json.writeSpecs(g, "inputs", s.metadata().get().inputs());
      Json.writeSpecs(g, "outputs", s.metadata().get().outputs());
    }
    if (s.loadedAt().isPresent()) {
      g.writeStringField("loaded_at", s.loadedAt().get().toString());
    }
    g.writeBooleanField("warmed_up", s.warmedUp());
    if (s.failure().isPresent()) {
      g.writeStringField("failure", s.failure().get());
    }
    g.writeEndObject();
  }

  /**
   * Parses one predict request. {@code defaultModel} and {@code defaultVersion} apply when the
   * object names none (the items of {@code /batch-predict}).
   */
  private static Parsed parse(JsonParser p, String prefix, Dialect dialect,
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
    Processing.Pre pre = null;
    Processing.Post post = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      if (field.equals(dialect.modelField())) {
        if (t != JsonToken.VALUE_STRING || p.getText().isEmpty()) {
          throw HttpError.badField(prefix + field, "expected a model name, got "
              + Json.describe(t));
        }
        model = p.getText();
        continue;
      }
      if (field.equals(dialect.versionField())) {
        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_STRING) {
          version = p.getText();
        } else if (t != JsonToken.VALUE_NULL) {
          throw HttpError.badField(prefix + field, "expected a version number or label, got "
              + Json.describe(t));
        }
        continue;
      }
      switch (field) {
        case "preprocessing" -> pre = t == JsonToken.VALUE_NULL ? null
            : Processing.readPre(Json.MAPPER.readTree(p), prefix + field);
        case "postprocessing" -> post = t == JsonToken.VALUE_NULL ? null
            : Processing.readPost(Json.MAPPER.readTree(p), prefix + field);
        case "inputs" -> {
          sawInputs = true;
          if (t == JsonToken.START_ARRAY) {
            single = JsonTensor.read(p, prefix + "inputs");
          } else if (t == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String name = p.currentName();
              p.nextToken();
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
    if (model == null) {
      throw HttpError.badField(prefix + dialect.modelField(), "is required");
    }
    if (!sawInputs || (single == null && named.isEmpty())) {
      throw HttpError.badField(prefix + "inputs", "is required and must not be empty");
    }
    return new Parsed(model, version, single, named, prefix, new Processing.Plan(pre, post));
  }

  private InferenceRequest toRequest(Parsed parsed) {
    ModelRef ref = parsed.version() == null ? ModelRef.of(parsed.model())
        : Models.ref(parsed.model(), parsed.version());
    Optional<ModelMetadata> metadata = Models.metadata(settings.server().registry(), ref);
    InferenceRequest.Builder b = InferenceRequest.builder(ref);
    if (settings.requestTimeout() != null) {
      b.timeout(settings.requestTimeout());
    }
    String prefix = parsed.prefix();
    Processing.Plan plan = parsed.plan();
    plan.resolve(settings, parsed.model(), prefix);
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
      b.input(spec.name(), plan.input(spec.name(), tensor(parsed.single(), spec, prefix + "inputs"),
          prefix + "inputs"));
    } else {
      for (var e : parsed.named().entrySet()) {
        String path = prefix + "inputs." + e.getKey();
        TensorSpec spec;
        if (metadata.isPresent()) {
          spec = metadata.get().input(e.getKey()).orElseThrow(() -> HttpError.badField(path,
              "model '" + parsed.model() + "' has no input named '" + e.getKey() + "'; it has "
                  + metadata.get().inputs().stream().map(TensorSpec::name).toList()));
        } else {
          spec = TensorSpec.ofUnknownRank(e.getKey(), DataType.FP32);
        }
        b.input(e.getKey(), plan.input(e.getKey(), tensor(e.getValue(), spec, path), path));
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

  private static void writeResult(JsonGenerator g, InferenceResult result,
      InferenceRequest request, long startNanos, Processing.Plan plan) throws IOException {
    g.writeStartObject();
    g.writeStringField("model", result.model());
    g.writeNumberField("version", result.version());
    g.writeFieldName("outputs");
    if (plan.hasPost()) {
      plan.writeOutputs(g, result);
    } else {
      writeOutputs(g, result);
    }
    g.writeNumberField("n_samples", request.rows());
    g.writeNumberField("latency_us", (System.nanoTime() - startNanos) / 1000);
    plan.writeMicros(g);
    g.writeBooleanField("done", true);
    g.writeEndObject();
  }
}
