package dev.modserv.http.internal.openai;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.http.internal.DialectRoutes;
import dev.modserv.http.internal.ErrorShape;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.Models;
import dev.modserv.http.internal.Names;
import dev.modserv.http.internal.Routes;
import dev.modserv.http.internal.Settings;
import dev.modserv.http.internal.llm.Embeddings;
import dev.modserv.http.internal.llm.LlmRequests;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The OpenAI dialect ({@code /v1/...}): model listings, embeddings and text generation ({@link
 * OpenAiGeneration}), with errors in OpenAI's {@code {"error": {...}}} shape.
 */
public record OpenAiApi(Settings settings) implements DialectRoutes {
  @Override
  public void register(Routes routes) {
    OpenAiGeneration gen = new OpenAiGeneration(settings);
    routes.errors(ErrorShape.OPENAI);
    routes.get("/v1/models", this::models);
    routes.get("/v1/models/{model}", this::model);
    routes.post("/v1/embeddings", this::embeddings);
    routes.post("/v1/chat/completions", ex -> gen.generate(ex, true));
    routes.post("/v1/completions", ex -> gen.generate(ex, false));
  }

  /** {@code GET /v1/models}: every model by name. */
  void models(Exchange ex) {
    Map<String, List<ModelStatus>> byName = Models.byName(settings.server().registry());
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      g.writeStringField("object", "list");
      g.writeArrayFieldStart("data");
      for (var e : byName.entrySet()) {
        writeModel(g, e.getKey(), e.getValue());
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  /** {@code GET /v1/models/{model}}. */
  void model(Exchange ex) {
    String name = Names.model("model", ex.param("model"));
    List<ModelStatus> versions = settings.server().registry().versions(name);
    if (versions.isEmpty()) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "model '" + name
          + "' not found");
    }
    // As in the list: a model whose every version failed to load is not offered.
    if (versions.stream().allMatch(s -> s.state() == ModelState.FAILED)) {
      throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "model '" + name
          + "' failed to load; GET /api/models shows why");
    }
    ex.json(200, Json.write(g -> writeModel(g, name, versions)));
  }

  private static void writeModel(JsonGenerator g, String name, List<ModelStatus> versions)
      throws IOException {
    g.writeStartObject();
    g.writeStringField("id", name);
    g.writeStringField("object", "model");
    g.writeNumberField("created", versions.stream().flatMap(s -> s.loadedAt().stream())
        .min(Comparator.naturalOrder()).map(Instant::getEpochSecond).orElse(0L));
    g.writeStringField("owned_by", "modserv");
    // What the GGUF header says, under llama-server's "meta" names.
    versions.stream().filter(s -> s.state() == ModelState.READY)
        .max(Comparator.comparingLong(ModelStatus::version))
        .flatMap(ModelStatus::metadata).map(m -> m.properties())
        .filter(p -> p.containsKey("architecture")).ifPresent(p -> {
          try {
            g.writeObjectFieldStart("meta");
            g.writeStringField("architecture", p.get("architecture"));
            Json.writeCount(g, "n_params", p.get("parameters"));
            Json.writeCount(g, "n_ctx_train", p.get("context-length"));
            Json.writeCount(g, "n_embd", p.get("embedding-length"));
            Json.writeCount(g, "size", p.get("file-bytes"));
            g.writeStringField("quantization", p.getOrDefault("quantization", ""));
            g.writeBooleanField("chat_template", Boolean.parseBoolean(p.get("chat-template")));
            g.writeEndObject();
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
    g.writeEndObject();
  }

  /**
   * {@code POST /v1/embeddings}: {@code {model, input: string | string[], encoding_format?,
   * dimensions?}}.
   */
  void embeddings(Exchange ex) throws Exception {
    JsonNode body = LlmRequests.object(ex);
    Embeddings.Request req = Embeddings.read(body, "input");
    String format = LlmRequests.text(body, "encoding_format", "float");
    if (!format.equals("float") && !format.equals("base64")) {
      throw HttpError.badField("encoding_format", "expected \"float\" or \"base64\", got \""
          + format + "\"");
    }
    boolean base64 = format.equals("base64");
    Embeddings.embed(settings, ex, req, (g, vectors, tokens) -> {
      g.writeStartObject();
      g.writeStringField("object", "list");
      g.writeArrayFieldStart("data");
      for (int i = 0; i < vectors.length; i++) {
        g.writeStartObject();
        g.writeStringField("object", "embedding");
        writeVector(g, vectors[i], base64);
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

  private static void writeVector(JsonGenerator g, float[] vector, boolean base64)
      throws IOException {
    if (base64) {
      ByteBuffer bytes = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      bytes.asFloatBuffer().put(vector);
      g.writeStringField("embedding", Base64.getEncoder().encodeToString(bytes.array()));
    } else {
      g.writeFieldName("embedding");
      g.writeArray(Embeddings.toDoubles(vector), 0, vector.length);
    }
  }
}
