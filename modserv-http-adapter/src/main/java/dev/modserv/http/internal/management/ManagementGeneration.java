package dev.modserv.http.internal.management;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.api.ModelRef;
import dev.modserv.api.Usage;
import dev.modserv.http.internal.ErrorShape;
import dev.modserv.http.internal.ClientText;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.Names;
import dev.modserv.http.internal.Settings;
import dev.modserv.http.internal.llm.GenerationWriter;
import dev.modserv.http.internal.llm.GenerationWriter.Framing;
import dev.modserv.http.internal.llm.Generations;
import dev.modserv.http.internal.llm.LlmRequests;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * {@code POST /models/{name}/inference} with {@code {prompt, max_tokens?, temperature?, top_p?,
 * seed?, stop?, stream?}}: {@code {text, tokens_generated, latency_ms, finish_reason}}, or with
 * {@code stream}, SSE events {@code {"text": delta}} and a last one with those fields.
 */
record ManagementGeneration(Settings settings) {
  void generate(Exchange ex) throws IOException {
    JsonNode body = LlmRequests.object(ex);
    String model = Names.model("name", ex.param("name"));
    GenerationRequest.Builder b = GenerationRequest.builder(ModelRef.of(model))
        .prompt(LlmRequests.text(body, "prompt", null));
    for (var e : body.properties()) {
      String key = e.getKey();
      JsonNode v = e.getValue();
      if (v.isNull() || key.equals("prompt") || key.equals("stream")) {
        continue;
      }
      if (key.equals("model")) {
        if (!v.asText().equals(model)) {
          throw HttpError.badField(key, "names " + ClientText.quote(v.asText())
              + " but the path names '"
              + model + "'; leave it out");
        }
      } else if (!LlmRequests.sampling(b, key, v)) {
        throw HttpError.badField(key, "is not supported; use prompt, max_tokens,"
            + " temperature, top_p, seed, stop, stream");
      }
    }
    Writer writer = new Writer(LlmRequests.bool(body, "stream", false), ex.startNanos());
    Generations.start(settings, ex, model, b.build(), writer);
  }

  /** Writes one answer: whole, or SSE text deltas and a last event with the totals. */
  private record Writer(boolean streams, long startNanos) implements GenerationWriter {
    @Override
    public void chunk(OutputStream out, GenerationChunk chunk, CharSequence textSoFar)
        throws IOException {
      if (!chunk.text().isEmpty()) {
        Framing.SSE.write(out, Json.write(g -> {
          g.writeStartObject();
          g.writeStringField("text", chunk.text());
          g.writeEndObject();
        }));
      }
      if (chunk.last()) {
        FinishReason reason = chunk.finish().orElseThrow();
        Usage usage = Objects.requireNonNull(chunk.usage());
        Framing.SSE.write(out, Json.write(g -> totals(g, textSoFar.toString(), reason, usage)));
      }
    }

    @Override
    public void whole(JsonGenerator g, GenerationResult r) throws IOException {
      totals(g, r.text(), r.finishReason(), r.usage());
    }

    @Override
    public ErrorShape errorShape() {
      // As the OpenAI routes' streams end: an SSE event in OpenAI's error shape.
      return ErrorShape.OPENAI;
    }

    private void totals(JsonGenerator g, String text, FinishReason reason, Usage usage)
        throws IOException {
      g.writeStartObject();
      g.writeStringField("text", text);
      g.writeNumberField("tokens_generated", usage.completionTokens());
      g.writeNumberField("latency_ms", (System.nanoTime() - startNanos) / 1e6);
      g.writeStringField("finish_reason", reason.tag());
      g.writeEndObject();
    }
  }
}
