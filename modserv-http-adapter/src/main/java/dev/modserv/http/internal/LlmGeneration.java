package dev.modserv.http.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.Capability;
import dev.modserv.api.ChatMessage;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.api.GenerationStream;
import dev.modserv.api.GenerationTimings;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Usage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Flow;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * Text generation in the OpenAI ({@code /v1/chat/completions}, {@code /v1/completions}) and
 * Ollama ({@code /api/chat}, {@code /api/generate}) dialects, streamed as SSE or NDJSON.
 *
 * <p>Each generation runs on a virtual thread of its own that reads the model's stream and writes
 * the response with blocking writes: the I/O thread never waits for a token. A client that goes
 * away fails the next write (or Jetty reports the failure first), which cancels the generation and
 * frees its sequence at once.
 */
final class LlmGeneration {
  private static final byte[] SSE_DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EVENT_END = {'\n', '\n'};

  private final Settings settings;

  LlmGeneration(Settings settings) {
    this.settings = settings;
  }

  /** The dialects: how a request is read and each piece of the answer written. */
  private enum Dialect { OPENAI_CHAT, OPENAI_COMPLETION, OLLAMA_CHAT, OLLAMA_GENERATE, MANAGEMENT }

  /** A parsed request: what to generate, and how to answer. */
  private record Call(Dialect dialect, String model, GenerationRequest request, boolean stream,
      boolean includeUsage, java.time.@Nullable Duration keepAlive) {}

  void openAiChat(Exchange ex) throws IOException {
    start(ex, parseOpenAi(ex, Dialect.OPENAI_CHAT));
  }

  void openAiCompletion(Exchange ex) throws IOException {
    start(ex, parseOpenAi(ex, Dialect.OPENAI_COMPLETION));
  }

  void ollamaChat(Exchange ex) throws IOException {
    start(ex, parseOllama(ex, Dialect.OLLAMA_CHAT));
  }

  void ollamaGenerate(Exchange ex) throws IOException {
    start(ex, parseOllama(ex, Dialect.OLLAMA_GENERATE));
  }

  /**
   * {@code POST /models/{name}/inference} with {@code {prompt, max_tokens?, temperature?, top_p?,
   * seed?, stop?, stream?}}: {@code {text, tokens_generated, latency_ms, finish_reason}}, or with
   * {@code stream}, SSE events {@code {"text": delta}} and a last one with those fields.
   */
  void management(Exchange ex) throws IOException {
    JsonNode body = object(ex);
    String model = ex.param("name");
    GenerationRequest.Builder b = GenerationRequest.builder(ModelRef.parse(model))
        .prompt(text(body, "prompt"));
    for (var e : body.properties()) {
      String key = e.getKey();
      JsonNode v = e.getValue();
      if (v.isNull()) {
        continue;
      }
      switch (key) {
        case "prompt", "stream" -> { }
        case "model" -> {
          if (!v.asText().equals(model)) {
            throw HttpError.badField(key, "names '" + v.asText() + "' but the path names '"
                + model + "'; leave it out");
          }
        }
        default -> {
          if (!sampling(b, key, v)) {
            throw HttpError.badField(key, "is not supported; use prompt, max_tokens,"
                + " temperature, top_p, seed, stop, stream");
          }
        }
      }
    }
    applyTimeout(b);
    start(ex, new Call(Dialect.MANAGEMENT, model, b.build(), bool(body, "stream", false), false,
        null));
  }

  // ------------------------------------------------------------------------------ running

  private void start(Exchange ex, Call call) {
    requireGenerative(call.model());
    OllamaKeepAlive.apply(settings.server().registry(), call.model(), call.keepAlive());
    // Submitted here, so that the engine starts on the prompt at once; the answer is written on
    // the stream's delivery thread, which starts with the first chunk.
    GenerationStream stream = settings.server().generate(call.request());
    ex.request().addFailureListener(failure -> stream.cancel());
    stream.subscribe(new Answer(ex, call, stream));
  }

  /** 404 for an unknown model, 400 for one that does not generate (loaded models only). */
  private void requireGenerative(String model) {
    Optional<ModelMetadata> metadata =
        Models.metadata(settings.server().registry(), ModelRef.parse(model));
    if (metadata.isPresent() && !metadata.get().capabilities().contains(Capability.GENERATIVE)) {
      List<String> can = new ArrayList<>();
      if (metadata.get().capabilities().contains(Capability.EMBEDDING)) {
        can.add("embedding");
      }
      throw HttpError.badField("model", "model '" + model + "' does not generate text"
          + (can.isEmpty() ? "" : " (it supports " + String.join(", ", can) + ")")
          + "; load a GGUF model with the llama.cpp engine (modserv-llama) to generate");
    }
  }

  /**
   * Writes one generation's answer as its chunks come, on the stream's delivery thread (blocking
   * writes). A refusal before the first chunk gets its own status; a failure after it goes in the
   * body, as the dialect does; a client that went away cancels the generation.
   */
  private static final class Answer implements Flow.Subscriber<GenerationChunk> {
    private final Exchange ex;
    private final Call call;
    private final GenerationStream stream;
    private final String id;
    private final long created = Instant.now().getEpochSecond();
    private final boolean sse;
    private final StringBuilder text = new StringBuilder();
    /**
     * What one engine chunk makes (with the first, OpenAI's role event; with the last, the
     * finish, the usage and [DONE]) goes out in one write: each write is a chunk and a system
     * call, and the client waits for all of them.
     */
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream(512);
    private @Nullable OutputStream out;
    private boolean ended;

    Answer(Exchange ex, Call call, GenerationStream stream) {
      this.ex = ex;
      this.call = call;
      this.stream = stream;
      this.id = (call.dialect() == Dialect.OPENAI_CHAT ? "chatcmpl-" : "cmpl-")
          + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
      this.sse = call.dialect() != Dialect.OLLAMA_CHAT && call.dialect() != Dialect.OLLAMA_GENERATE;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(GenerationChunk chunk) {
      if (ended) {
        return;
      }
      text.append(chunk.text());
      try {
        if (!call.stream()) {
          if (chunk.last()) {
            ended = true;
            GenerationResult r = new GenerationResult(text.toString(),
                chunk.finish().orElseThrow(), Objects.requireNonNull(chunk.usage()),
                Objects.requireNonNull(chunk.timings()));
            ex.json(200, Json.write(g -> whole(g, call, id, created, r, ex.startNanos())));
          }
          return;
        }
        OutputStream body = out;
        if (body == null) {
          body = ex.startStream(sse ? "text/event-stream" : "application/x-ndjson");
          out = body;
          if (call.dialect() == Dialect.OPENAI_CHAT) {
            // OpenAI opens with the role and an empty content.
            event(pending, Json.write(g -> openAiChunk(g, call, id, created, "", true, null)));
          }
        }
        write(pending, call, id, created, chunk, ex.startNanos(), text);
        if (chunk.last() && sse && call.dialect() != Dialect.MANAGEMENT) {
          pending.write(SSE_DONE);
        }
        if (pending.size() > 0) {
          pending.writeTo(body);
          pending.reset();
        }
        if (chunk.last()) {
          ended = true;
          ex.endStream(null);
        }
      } catch (IOException e) {
        // The client went away: the generation stops at once and frees its sequence.
        ended = true;
        stream.cancel();
        ex.endStream(e);
      } catch (RuntimeException e) {
        ended = true;
        stream.cancel();
        fail(e);
      }
    }

    @Override
    public void onError(Throwable failure) {
      if (!ended) {
        ended = true;
        fail(failure);
      }
    }

    @Override
    public void onComplete() {
      if (!ended) {
        onError(new IllegalStateException("the generation ended without a last chunk"));
      }
    }

    /** Before the status: the error's own status; after it, the error in the body. */
    private void fail(Throwable failure) {
      OutputStream body = out;
      if (body == null) {
        ex.fail(failure);
        return;
      }
      RuntimeException e = failure instanceof RuntimeException re ? re
          : new IllegalStateException(failure);
      try {
        pending.reset();
        writeError(pending, sse, e);
        pending.writeTo(body);
        ex.endStream(null);
      } catch (IOException gone) {
        ex.endStream(gone);
      }
    }
  }

  private static void writeError(OutputStream out, boolean sse, RuntimeException e)
      throws IOException {
    String message = String.valueOf(e.getMessage());
    ErrorCode code = ModelServingException.codeOf(e).orElse(ErrorCode.BACKEND_ERROR);
    if (sse) {
      event(out, ErrorFormat.OPENAI.render(ErrorStatus.of(code), message, code, null));
    } else {
      line(out, Json.error(message));
    }
  }

  /** Adds one SSE event. */
  private static void event(OutputStream out, byte[] json) throws IOException {
    out.write(DATA);
    out.write(json);
    out.write(EVENT_END);
  }

  /** Adds one NDJSON line. */
  private static void line(OutputStream out, byte[] json) throws IOException {
    out.write(json);
    out.write('\n');
  }

  /** Writes one chunk in the call's dialect; the last one adds the finish and the usage. */
  private static void write(OutputStream out, Call call, String id, long created,
      GenerationChunk chunk, long startNanos, CharSequence textSoFar) throws IOException {
    switch (call.dialect()) {
      case MANAGEMENT -> {
        if (!chunk.text().isEmpty()) {
          event(out, Json.write(g -> {
            g.writeStartObject();
            g.writeStringField("text", chunk.text());
            g.writeEndObject();
          }));
        }
        if (chunk.last()) {
          FinishReason reason = chunk.finish().orElseThrow();
          Usage usage = Objects.requireNonNull(chunk.usage());
          event(out, Json.write(g -> management(g, textSoFar.toString(), reason, usage,
              startNanos)));
        }
      }
      case OPENAI_CHAT, OPENAI_COMPLETION -> {
        if (!chunk.text().isEmpty()) {
          event(out, Json.write(g -> openAiChunk(g, call, id, created, chunk.text(), false, null)));
        }
        if (chunk.last()) {
          FinishReason reason = chunk.finish().orElseThrow();
          if (reason == FinishReason.CANCELLED) {
            return;
          }
          event(out, Json.write(g -> openAiChunk(g, call, id, created, null, false, reason)));
          if (call.includeUsage()) {
            Usage usage = Objects.requireNonNull(chunk.usage());
            event(out, Json.write(g -> {
              openAiHead(g, call, id, created, true);
              g.writeArrayFieldStart("choices");
              g.writeEndArray();
              usage(g, usage);
              g.writeEndObject();
            }));
          }
        }
      }
      case OLLAMA_CHAT, OLLAMA_GENERATE -> {
        if (!chunk.text().isEmpty() || chunk.last()) {
          line(out, Json.write(g -> {
            ollamaHead(g, call, chunk.last() ? "" : chunk.text());
            if (chunk.last()) {
              ollamaEnd(g, chunk.finish().orElseThrow(),
                  Objects.requireNonNull(chunk.usage()),
                  Objects.requireNonNull(chunk.timings()), startNanos);
            } else {
              g.writeBooleanField("done", false);
            }
            g.writeEndObject();
          }));
        }
      }
    }
  }

  /** The whole answer of a call that does not stream. */
  private static void whole(JsonGenerator g, Call call, String id, long created,
      GenerationResult r, long startNanos) throws IOException {
    switch (call.dialect()) {
      case MANAGEMENT -> management(g, r.text(), r.finishReason(), r.usage(), startNanos);
      case OPENAI_CHAT, OPENAI_COMPLETION -> {
        openAiHead(g, call, id, created, false);
        g.writeArrayFieldStart("choices");
        g.writeStartObject();
        g.writeNumberField("index", 0);
        if (call.dialect() == Dialect.OPENAI_CHAT) {
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
      case OLLAMA_CHAT, OLLAMA_GENERATE -> {
        ollamaHead(g, call, r.text());
        ollamaEnd(g, r.finishReason(), r.usage(), r.timings(), startNanos);
        g.writeEndObject();
      }
    }
  }

  private static void management(JsonGenerator g, String text, FinishReason reason, Usage usage,
      long startNanos) throws IOException {
    g.writeStartObject();
    g.writeStringField("text", text);
    g.writeNumberField("tokens_generated", usage.completionTokens());
    g.writeNumberField("latency_ms", (System.nanoTime() - startNanos) / 1e6);
    g.writeStringField("finish_reason", reason.tag());
    g.writeEndObject();
  }

  private static void openAiHead(JsonGenerator g, Call call, String id, long created,
      boolean chunk) throws IOException {
    g.writeStartObject();
    g.writeStringField("id", id);
    boolean chat = call.dialect() == Dialect.OPENAI_CHAT;
    g.writeStringField("object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion")
        : "text_completion");
    g.writeNumberField("created", created);
    g.writeStringField("model", call.model());
    g.writeStringField("system_fingerprint", "modserv");
  }

  /** A streamed chunk: a text delta, the opening role, or the finish with an empty delta. */
  private static void openAiChunk(JsonGenerator g, Call call, String id, long created,
      @Nullable String text, boolean role, @Nullable FinishReason finish) throws IOException {
    openAiHead(g, call, id, created, true);
    g.writeArrayFieldStart("choices");
    g.writeStartObject();
    g.writeNumberField("index", 0);
    if (call.dialect() == Dialect.OPENAI_CHAT) {
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
    if (call.includeUsage()) {
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

  private static void ollamaHead(JsonGenerator g, Call call, String text) throws IOException {
    g.writeStartObject();
    g.writeStringField("model", call.model());
    g.writeStringField("created_at", Instant.now().toString());
    if (call.dialect() == Dialect.OLLAMA_CHAT) {
      g.writeObjectFieldStart("message");
      g.writeStringField("role", "assistant");
      g.writeStringField("content", text);
      g.writeEndObject();
    } else {
      g.writeStringField("response", text);
    }
  }

  /** Ollama's last object: done, why, and the nanosecond durations and counts. */
  private static void ollamaEnd(JsonGenerator g, FinishReason reason, Usage usage,
      GenerationTimings t, long startNanos) throws IOException {
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

  // ------------------------------------------------------------------------------ parsing

  private Call parseOpenAi(Exchange ex, Dialect dialect) throws IOException {
    JsonNode body = object(ex);
    String model = text(body, "model");
    GenerationRequest.Builder b = GenerationRequest.builder(ModelRef.parse(model));
    if (dialect == Dialect.OPENAI_CHAT) {
      b.messages(messages(body.get("messages"), "messages", true));
    } else {
      JsonNode prompt = body.get("prompt");
      if (prompt == null || !prompt.isTextual()) {
        throw HttpError.badField("prompt", "expected a string (lists and token arrays are not"
            + " supported)");
      }
      b.prompt(prompt.asText());
    }
    for (var e : body.properties()) {
      String key = e.getKey();
      JsonNode v = e.getValue();
      if (v.isNull()) {
        continue;
      }
      switch (key) {
        case "model", "messages", "prompt", "stream", "stream_options", "user" -> { }
        case "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "stop" ->
            sampling(b, key, v);
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
        case "tools" -> noTools(v);
        default -> throw HttpError.badField(key, "is not supported by this server");
      }
    }
    boolean stream = bool(body, "stream", false);
    boolean usage = false;
    JsonNode options = body.get("stream_options");
    if (options != null && !options.isNull()) {
      if (!options.isObject()) {
        throw HttpError.badField("stream_options", "expected an object");
      }
      JsonNode include = options.get("include_usage");
      usage = include != null && include.asBoolean(false);
    }
    applyTimeout(b);
    return new Call(dialect, model, b.build(), stream, usage, null);
  }

  /**
   * Applies one of the sampling fields OpenAI's routes and the management API share; false for
   * any other key.
   */
  private static boolean sampling(GenerationRequest.Builder b, String key, JsonNode v) {
    switch (key) {
      case "max_tokens", "max_completion_tokens" ->
          b.maxTokens((int) Math.min(Integer.MAX_VALUE, Math.max(0, integer(v, key))));
      case "temperature" -> b.temperature(number(v, key));
      case "top_p" -> b.topP(number(v, key));
      case "seed" -> b.seed(integer(v, key));
      case "stop" -> b.stop(stops(v, key));
      default -> {
        return false;
      }
    }
    return true;
  }

  /** Clients send an empty tool list as a matter of course: that is fine; tools are not. */
  private static void noTools(JsonNode v) {
    if (!(v.isArray() && v.isEmpty())) {
      throw HttpError.badField("tools", "tool calling is not supported by this server");
    }
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

  private Call parseOllama(Exchange ex, Dialect dialect) throws IOException {
    JsonNode body = object(ex);
    String model = text(body, "model");
    GenerationRequest.Builder b = GenerationRequest.builder(ModelRef.parse(model));
    java.time.Duration keepAlive = null;
    if (dialect == Dialect.OLLAMA_CHAT) {
      b.messages(messages(body.get("messages"), "messages", false));
    } else {
      String prompt = text(body, "prompt");
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
    for (var e : body.properties()) {
      String key = e.getKey();
      JsonNode v = e.getValue();
      if (v.isNull()) {
        continue;
      }
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
        case "tools" -> noTools(v);
        case "keep_alive" -> keepAlive = OllamaKeepAlive.read(v);
        default -> throw HttpError.badField(key, "is not supported by this server");
      }
    }
    boolean stream = bool(body, "stream", true);
    applyTimeout(b);
    return new Call(dialect, model, b.build(), stream, false, keepAlive);
  }

  /** Ollama's {@code options}: the sampling ones; load-time ones belong in the model's config. */
  private static void options(GenerationRequest.Builder b, JsonNode options) {
    if (!options.isObject()) {
      throw HttpError.badField("options", "expected an object");
    }
    for (var e : options.properties()) {
      String key = "options." + e.getKey();
      JsonNode v = e.getValue();
      if (v.isNull()) {
        continue;
      }
      switch (e.getKey()) {
        case "temperature" -> b.temperature(number(v, key));
        case "top_p" -> b.topP(number(v, key));
        case "top_k" -> b.topK((int) integer(v, key));
        case "min_p" -> b.minP(number(v, key));
        case "repeat_penalty" -> b.repeatPenalty(number(v, key));
        case "seed" -> b.seed(integer(v, key));
        case "stop" -> b.stop(stops(v, key));
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
  }

  private void applyTimeout(GenerationRequest.Builder b) {
    if (settings.requestTimeout() != null) {
      b.timeout(settings.requestTimeout());
    }
  }

  private static List<ChatMessage> messages(@Nullable JsonNode node, String path,
      boolean partsAllowed) {
    if (node == null || !node.isArray() || node.isEmpty()) {
      throw HttpError.badField(path, "expected a non-empty array of {role, content}");
    }
    List<ChatMessage> out = new ArrayList<>();
    for (int i = 0; i < node.size(); i++) {
      JsonNode m = node.get(i);
      String at = path + "[" + i + "]";
      if (!m.isObject()) {
        throw HttpError.badField(at, "expected an object {role, content}");
      }
      String role = m.path("role").asText("");
      JsonNode content = m.get("content");
      String text;
      if (content != null && content.isTextual()) {
        text = content.asText();
      } else if (partsAllowed && content != null && content.isArray()) {
        StringBuilder sb = new StringBuilder();
        for (int p = 0; p < content.size(); p++) {
          JsonNode part = content.get(p);
          if (!"text".equals(part.path("type").asText())) {
            throw HttpError.badField(at + ".content[" + p + "]", "only text parts are supported");
          }
          sb.append(part.path("text").asText(""));
        }
        text = sb.toString();
      } else {
        throw HttpError.badField(at + ".content", "expected a string");
      }
      if (m.has("images") && !m.get("images").isNull() && !m.get("images").isEmpty()) {
        throw HttpError.badField(at + ".images", "images are not supported");
      }
      try {
        out.add(new ChatMessage(role, text));
      } catch (ModelServingException e) {
        throw HttpError.badField(at + ".role", String.valueOf(e.getMessage()));
      }
    }
    return out;
  }

  private static List<String> stops(JsonNode v, String path) {
    if (v.isTextual()) {
      return List.of(v.asText());
    }
    if (!v.isArray()) {
      throw HttpError.badField(path, "expected a string or an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode s : v) {
      if (!s.isTextual()) {
        throw HttpError.badField(path, "expected strings");
      }
      out.add(s.asText());
    }
    return out;
  }

  private static JsonNode object(Exchange ex) throws IOException {
    return LlmApis.object(ex);
  }

  private static String text(JsonNode body, String field) {
    return LlmApis.text(body, field, null);
  }

  private static boolean bool(JsonNode body, String field, boolean otherwise) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return otherwise;
    }
    if (!n.isBoolean()) {
      throw HttpError.badField(field, "expected true or false");
    }
    return n.asBoolean();
  }

  private static double number(JsonNode v, String path) {
    if (!v.isNumber()) {
      throw HttpError.badField(path, "expected a number, got " + Json.describe(v.asToken()));
    }
    return v.asDouble();
  }

  private static long integer(JsonNode v, String path) {
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw HttpError.badField(path, "expected a whole number, got " + v.toString()
          .toLowerCase(Locale.ROOT));
    }
    return v.asLong();
  }
}
