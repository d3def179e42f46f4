package dev.modserv.http.internal.ollama;

import static dev.modserv.http.internal.llm.LlmRequests.integer;
import static dev.modserv.http.internal.llm.LlmRequests.number;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.ChatMessage;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.api.GenerationTimings;
import dev.modserv.api.ModelRef;
import dev.modserv.api.Usage;
import dev.modserv.http.internal.ErrorShape;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.Settings;
import dev.modserv.http.internal.llm.GenerationWriter;
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
final class OllamaGeneration {
  private final Settings settings;

  OllamaGeneration(Settings settings) {
    this.settings = settings;
  }

  void chat(Exchange ex) throws IOException {
    generate(ex, true);
  }

  void generate(Exchange ex) throws IOException {
    generate(ex, false);
  }

  private void generate(Exchange ex, boolean chat) throws IOException {
    JsonNode body = LlmRequests.object(ex);
    String model = LlmRequests.text(body, "model", null);
    GenerationRequest.Builder b = GenerationRequest.builder(ModelRef.parse(model));
    if (chat) {
      b.messages(LlmRequests.messages(body.get("messages"), "messages", false));
    } else {
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
      case "top_k" -> b.topK((int) integer(v, key));
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
  private static final class Writer implements GenerationWriter {
    private final boolean chat;
    private final String model;
    private final boolean stream;
    private final long startNanos;

    Writer(boolean chat, String model, boolean stream, long startNanos) {
      this.chat = chat;
      this.model = model;
      this.stream = stream;
      this.startNanos = startNanos;
    }

    @Override
    public boolean streams() {
      return stream;
    }

    @Override
    public String streamType() {
      return "application/x-ndjson";
    }

    @Override
    public void chunk(OutputStream out, GenerationChunk chunk, CharSequence textSoFar)
        throws IOException {
      if (chunk.text().isEmpty() && !chunk.last()) {
        return;
      }
      Generations.line(out, Json.write(g -> {
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

    @Override
    public void error(OutputStream out, RuntimeException failure) throws IOException {
      Generations.line(out, Generations.streamError(ErrorShape.PLAIN, failure));
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
