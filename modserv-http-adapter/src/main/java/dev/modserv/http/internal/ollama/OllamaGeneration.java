package dev.modserv.http.internal.ollama;

import static dev.modserv.http.internal.llm.LlmRequests.integer;
import static dev.modserv.http.internal.llm.LlmRequests.number;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.ChatMessage;
import dev.modserv.api.ModelRef;
import dev.modserv.core.ModelRegistry;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.api.GenerationTimings;
import dev.modserv.api.Usage;
import dev.modserv.http.internal.ErrorShape;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.Models;
import dev.modserv.http.internal.Names;
import dev.modserv.http.internal.Settings;
import dev.modserv.http.internal.llm.GenerationWriter;
import dev.modserv.http.internal.llm.GenerationWriter.Framing;
import dev.modserv.http.internal.llm.Generations;
import dev.modserv.http.internal.llm.LlmRequests;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Ollama's text generation: {@code POST /api/chat} and {@code POST /api/generate} (with a {@code
 * prompt}), whole or streamed as NDJSON (streamed unless {@code stream} is false).
 */
record OllamaGeneration(Settings settings) {
  /** Answers a chat request ({@code messages}), or else one with a {@code prompt}. */
  void generate(Exchange ex, boolean chat) throws IOException {
    if (!chat && loadOrUnload(ex)) {
      return;
    }
    LlmRequests.Generation start = LlmRequests.generation(ex, chat, false);
    JsonNode body = start.body();
    String model = start.model();
    GenerationRequest.Builder b = start.builder();
    if (!chat) {
      prompt(b, body);
    }
    Duration keepAlive = null;
    for (var e : body.properties()) {
      String key = e.getKey();
      JsonNode v = e.getValue();
      if (v.isNull()) {
        continue;
      }
      if (key.equals("keep_alive")) {
        keepAlive = OllamaKeepAlive.read(v);
      } else {
        field(b, key, v);
      }
    }
    Writer writer = new Writer(chat, model, LlmRequests.bool(body, "stream", true),
        ex.startNanos());
    Generations.requireGenerative(settings, model);
    OllamaKeepAlive.apply(settings.server().registry(), model, keepAlive);
    Generations.run(settings, ex, b.build(), writer);
  }

  /**
   * Ollama's {@code generate} without a prompt: loads the model (answering {@code done_reason}
   * "load" once it is ready), or with {@code keep_alive} 0 unloads it ("unload"). Returns false
   * for a request with a prompt.
   */
  private boolean loadOrUnload(Exchange ex) throws IOException {
    JsonNode body = LlmRequests.object(ex);
    JsonNode prompt = body.get("prompt");
    if ((prompt != null && !prompt.isNull() && !(prompt.isTextual() && prompt.asText().isEmpty()))
        || body.has("system") || body.has("inputs")) {
      return false;
    }
    String model = LlmRequests.text(body, "model", null);
    ModelRef ref = Names.ref("model", model);
    Duration keepAlive = OllamaKeepAlive.read(body.get("keep_alive"));
    ModelRegistry registry = settings.server().registry();
    Models.status(registry, ref);
    boolean unload = keepAlive != null && keepAlive.isZero();
    OllamaKeepAlive.apply(registry, model, keepAlive);
    // keep_alive 0 unloads the model once idle (the cache acts on it at once); it stays
    // registered, and the next request loads it again, as in Ollama.
    java.util.concurrent.CompletableFuture<Void> done = unload
        ? java.util.concurrent.CompletableFuture.completedFuture(null)
        : registry.ensureLoaded(ref);
    ex.jsonWhenDone(done, 200, (g, ignored) -> {
      g.writeStartObject();
      g.writeStringField("model", model);
      g.writeStringField("created_at", Instant.now().toString());
      g.writeStringField("response", "");
      g.writeBooleanField("done", true);
      g.writeStringField("done_reason", unload ? "unload" : "load");
      g.writeEndObject();
    });
    return true;
  }

  private static void prompt(GenerationRequest.Builder b, JsonNode body) {
    String prompt = LlmRequests.text(body, "prompt", null);
    JsonNode system = body.get("system");
    if (system != null && !system.isNull()) {
      if (!system.isTextual()) {
        throw HttpError.badField("system", "expected a string");
      }
      b.messages(List.of(ChatMessage.system(system.asText()), ChatMessage.user(prompt)));
    } else {
      b.prompt(prompt);
    }
  }

  private static void field(GenerationRequest.Builder b, String key, JsonNode v) {
    switch (key) {
      case "model", "messages", "prompt", "system", "stream" -> { }
      case "options" -> options(b, v);
      case "format" -> {
        if (v.isTextual() && v.asText().equals("json")) {
          b.jsonSchema("{\"type\":\"object\"}");
        } else if (v.isObject()) {
          b.jsonSchema(v.toString());
        } else if (!(v.isTextual() && v.asText().isEmpty())) {
          throw HttpError.badField(key, "expected \"json\" or a JSON schema object");
        }
      }
      case "tools" -> LlmRequests.noTools(v);
      case "think" -> {
        // No engine here has a thinking template: asking not to think is what it does anyway.
        if (!v.isBoolean()) {
          throw HttpError.badField(key, "expected true or false");
        }
        if (v.asBoolean()) {
          throw HttpError.badField(key, "true is not supported: this model has no thinking"
              + " template; leave think out or set it to false");
        }
      }
      default -> throw HttpError.badField(key, "is not supported by this server");
    }
  }

  /** Ollama's {@code options}: the sampling ones; load-time ones belong in the model's config. */
  private static void options(GenerationRequest.Builder b, JsonNode options) {
    if (!options.isObject()) {
      throw HttpError.badField("options", "expected an object");
    }
    for (var e : options.properties()) {
      String key = "options." + e.getKey();
      JsonNode v = e.getValue();
      if (!v.isNull()) {
        option(b, e.getKey(), key, v);
      }
    }
  }

  private static void option(GenerationRequest.Builder b, String name, String key, JsonNode v) {
    switch (name) {
      case "temperature" -> b.temperature(number(v, key));
      case "top_p" -> b.topP(number(v, key));
      case "top_k" -> b.topK((int) integer(v, key, 0, Integer.MAX_VALUE));
      case "min_p" -> b.minP(number(v, key));
      case "repeat_penalty" -> b.repeatPenalty(number(v, key));
      case "seed" -> b.seed(integer(v, key));
      case "stop" -> b.stop(LlmRequests.stops(v, key));
      case "num_predict" -> {
        long n = integer(v, key);
        if (n > 0) {
          b.maxTokens((int) Math.min(n, Integer.MAX_VALUE));
        } else if (n != -1) {
          throw HttpError.badField(key, "expected a positive count, or -1 for the default");
        }
      }
      case "num_ctx", "num_batch", "num_thread", "num_gpu", "main_gpu", "use_mmap", "num_keep" ->
          throw HttpError.badField(key, "is set when the model loads: give it in the model's"
              + " engine options (model.yaml engine-options), not per request");
      default -> throw HttpError.badField(key, "is not supported by this server");
    }
  }

  /** Writes one chat or generate answer. */
  private record Writer(boolean chat, String model, boolean streams, long startNanos)
      implements GenerationWriter {
    @Override
    public Framing framing() {
      return Framing.NDJSON;
    }

    @Override
    public ErrorShape errorShape() {
      return ErrorShape.PLAIN;
    }

    @Override
    public void chunk(OutputStream out, GenerationChunk chunk, CharSequence textSoFar)
        throws IOException {
      if (chunk.text().isEmpty() && !chunk.last()) {
        return;
      }
      Framing.NDJSON.write(out, Json.write(g -> {
        head(g, chunk.last() ? "" : chunk.text());
        if (chunk.last()) {
          end(g, chunk.finish().orElseThrow(), Objects.requireNonNull(chunk.usage()),
              Objects.requireNonNull(chunk.timings()));
        } else {
          g.writeBooleanField("done", false);
        }
        g.writeEndObject();
      }));
    }

    @Override
    public void whole(JsonGenerator g, GenerationResult r) throws IOException {
      head(g, r.text());
      end(g, r.finishReason(), r.usage(), r.timings());
      g.writeEndObject();
    }

    private void head(JsonGenerator g, String text) throws IOException {
      g.writeStartObject();
      g.writeStringField("model", model);
      g.writeStringField("created_at", Instant.now().toString());
      if (chat) {
        g.writeObjectFieldStart("message");
        g.writeStringField("role", "assistant");
        g.writeStringField("content", text);
        g.writeEndObject();
      } else {
        g.writeStringField("response", text);
      }
    }

    /** Ollama's last object: done, why, and the nanosecond durations and counts. */
    private void end(JsonGenerator g, FinishReason reason, Usage usage, GenerationTimings t)
        throws IOException {
      g.writeBooleanField("done", true);
      g.writeStringField("done_reason", reason.tag());
      g.writeNumberField("total_duration", System.nanoTime() - startNanos);
      // Models load before or beside requests, never inside one.
      g.writeNumberField("load_duration", 0);
      g.writeNumberField("prompt_eval_count", usage.promptTokens());
      g.writeNumberField("prompt_eval_duration", t.promptNanos());
      g.writeNumberField("eval_count", usage.completionTokens());
      g.writeNumberField("eval_duration", t.generationNanos());
    }
  }
}
