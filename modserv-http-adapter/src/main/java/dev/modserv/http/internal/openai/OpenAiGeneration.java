package dev.modserv.http.internal.openai;

import static dev.modserv.http.internal.llm.LlmRequests.bool;
import static dev.modserv.http.internal.llm.LlmRequests.integer;
import static dev.modserv.http.internal.llm.LlmRequests.number;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.api.Usage;
import dev.modserv.http.internal.ErrorShape;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.Settings;
import dev.modserv.http.internal.llm.GenerationWriter;
import dev.modserv.http.internal.llm.GenerationWriter.Framing;
import dev.modserv.http.internal.llm.Generations;
import dev.modserv.http.internal.llm.LlmRequests;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * OpenAI's text generation: {@code POST /v1/chat/completions} and {@code POST /v1/completions},
 * whole or streamed as SSE ending with {@code data: [DONE]}.
 */
record OpenAiGeneration(Settings settings) {
  private static final byte[] SSE_DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

  /** Answers a chat request ({@code messages}), or else one with a {@code prompt}. */
  void generate(Exchange ex, boolean chat) throws IOException {
    LlmRequests.Generation start = LlmRequests.generation(ex, chat, true);
    JsonNode body = start.body();
    GenerationRequest.Builder b = start.builder();
    JsonNode prompt = body.get("prompt");
    if (!chat && (prompt == null || !prompt.isTextual())) {
      throw HttpError.badField("prompt", "expected a string (lists and token arrays are not"
          + " supported)");
    } else if (!chat) {
      b.prompt(prompt.asText());
    }
    for (var e : body.properties()) {
      if (!e.getValue().isNull()) {
        field(b, e.getKey(), e.getValue());
      }
    }
    Writer writer = new Writer(chat, start.model(), bool(body, "stream", false),
        includeUsage(body));
    Generations.start(settings, ex, start.model(), b.build(), writer);
  }

  private static void field(GenerationRequest.Builder b, String key, JsonNode v) {
    switch (key) {
      case "model", "messages", "prompt", "stream", "stream_options", "user" -> { }
      case "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "stop" ->
          LlmRequests.sampling(b, key, v);
      case "n" -> {
        if (integer(v, key) != 1) {
          throw HttpError.badField(key, "only n = 1 is supported");
        }
      }
      case "frequency_penalty", "presence_penalty" -> {
        if (number(v, key) != 0) {
          throw HttpError.badField(key, "is not supported; leave it out or 0 (repeat_penalty is"
              + " available on the Ollama routes)");
        }
      }
      case "response_format" -> responseFormat(b, v);
      case "tools" -> LlmRequests.noTools(v);
      default -> throw HttpError.badField(key, "is not supported by this server");
    }
  }

  private static boolean includeUsage(JsonNode body) {
    JsonNode options = body.get("stream_options");
    if (options == null || options.isNull()) {
      return false;
    }
    if (!options.isObject()) {
      throw HttpError.badField("stream_options", "expected an object");
    }
    JsonNode include = options.get("include_usage");
    return include != null && include.asBoolean(false);
  }

  private static void responseFormat(GenerationRequest.Builder b, JsonNode v) {
    String type = v.path("type").asText("");
    switch (type) {
      case "text" -> { }
      case "json_object" -> b.jsonSchema("{\"type\":\"object\"}");
      case "json_schema" -> {
        JsonNode schema = v.path("json_schema").get("schema");
        if (schema == null || !schema.isObject()) {
          throw HttpError.badField("response_format.json_schema.schema", "expected an object");
        }
        b.jsonSchema(schema.toString());
      }
      default -> throw HttpError.badField("response_format.type",
          "expected text, json_object or json_schema");
    }
  }

  /** Writes one chat or completion answer. */
  private static final class Writer implements GenerationWriter {
    private final boolean chat;
    private final String model;
    private final boolean stream;
    private final boolean includeUsage;
    private final String id;
    private final long created = Instant.now().getEpochSecond();

    Writer(boolean chat, String model, boolean stream, boolean includeUsage) {
      this.chat = chat;
      this.model = model;
      this.stream = stream;
      this.includeUsage = includeUsage;
      this.id = (chat ? "chatcmpl-" : "cmpl-")
          + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    }

    @Override
    public boolean streams() {
      return stream;
    }

    @Override
    public ErrorShape errorShape() {
      return ErrorShape.OPENAI;
    }

    @Override
    public void open(OutputStream out) throws IOException {
      if (chat) {
        // OpenAI opens with the role and an empty content.
        Framing.SSE.write(out, Json.write(g -> chunk(g, "", true, null)));
      }
    }

    @Override
    public void chunk(OutputStream out, GenerationChunk chunk, CharSequence textSoFar)
        throws IOException {
      if (!chunk.text().isEmpty()) {
        Framing.SSE.write(out, Json.write(g -> chunk(g, chunk.text(), false, null)));
      }
      if (!chunk.last()) {
        return;
      }
      FinishReason reason = chunk.finish().orElseThrow();
      if (reason != FinishReason.CANCELLED) {
        Framing.SSE.write(out, Json.write(g -> chunk(g, null, false, reason)));
        if (includeUsage) {
          Usage usage = Objects.requireNonNull(chunk.usage());
          Framing.SSE.write(out, Json.write(g -> {
            head(g, true);
            g.writeArrayFieldStart("choices");
            g.writeEndArray();
            usage(g, usage);
            g.writeEndObject();
          }));
        }
      }
      out.write(SSE_DONE);
    }

    @Override
    public void whole(JsonGenerator g, GenerationResult r) throws IOException {
      head(g, false);
      g.writeArrayFieldStart("choices");
      g.writeStartObject();
      g.writeNumberField("index", 0);
      if (chat) {
        g.writeObjectFieldStart("message");
        g.writeStringField("role", "assistant");
        g.writeStringField("content", r.text());
        g.writeEndObject();
      } else {
        g.writeStringField("text", r.text());
      }
      g.writeNullField("logprobs");
      g.writeStringField("finish_reason", r.finishReason().tag());
      g.writeEndObject();
      g.writeEndArray();
      usage(g, r.usage());
      g.writeEndObject();
    }

    private void head(JsonGenerator g, boolean chunk) throws IOException {
      g.writeStartObject();
      g.writeStringField("id", id);
      g.writeStringField("object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion")
          : "text_completion");
      g.writeNumberField("created", created);
      g.writeStringField("model", model);
      g.writeStringField("system_fingerprint", "modserv");
    }

    /** A streamed chunk: a text delta, the opening role, or the finish with an empty delta. */
    private void chunk(JsonGenerator g, @Nullable String text, boolean role,
        @Nullable FinishReason finish) throws IOException {
      head(g, true);
      g.writeArrayFieldStart("choices");
      g.writeStartObject();
      g.writeNumberField("index", 0);
      if (chat) {
        g.writeObjectFieldStart("delta");
        if (role) {
          g.writeStringField("role", "assistant");
        }
        if (text != null) {
          g.writeStringField("content", text);
        }
        g.writeEndObject();
      } else {
        g.writeStringField("text", text == null ? "" : text);
      }
      g.writeNullField("logprobs");
      if (finish == null) {
        g.writeNullField("finish_reason");
      } else {
        g.writeStringField("finish_reason", finish.tag());
      }
      g.writeEndObject();
      g.writeEndArray();
      if (includeUsage) {
        g.writeNullField("usage");
      }
      g.writeEndObject();
    }

    private static void usage(JsonGenerator g, Usage u) throws IOException {
      g.writeObjectFieldStart("usage");
      g.writeNumberField("prompt_tokens", u.promptTokens());
      g.writeNumberField("completion_tokens", u.completionTokens());
      g.writeNumberField("total_tokens", u.totalTokens());
      g.writeEndObject();
    }
  }
}
