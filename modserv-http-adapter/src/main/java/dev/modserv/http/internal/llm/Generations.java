package dev.modserv.http.internal.llm;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.GenerationChunk;
import dev.modserv.api.GenerationListener;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.GenerationResult;
import dev.modserv.api.GenerationStream;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.http.internal.ErrorShape;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.Failure;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.Models;
import dev.modserv.http.internal.Names;
import dev.modserv.http.internal.Settings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Runs a generation for an LLM route and writes its answer with the dialect's {@link
 * GenerationWriter}: whole, or streamed as SSE or NDJSON.
 *
 * <p>The answer is written by a {@link GenerationListener} on the engine's thread that makes the
 * chunks, with writes that never block: no thread waits for a token, and none is woken to pass
 * one on. A client that goes away fails the next write (or Jetty reports the failure first), which
 * cancels the generation and frees its sequence at once.
 */
public final class Generations {
  private Generations() {}

  /** Checks that {@code model} (as the request names it) generates, then {@link #run}s. */
  public static void start(Settings settings, Exchange ex, String model,
      GenerationRequest request, GenerationWriter writer) {
    requireGenerative(settings, model);
    run(settings, ex, request, writer);
  }

  /** Submits {@code request} and writes its answer as its chunks come. */
  public static void run(Settings settings, Exchange ex, GenerationRequest request,
      GenerationWriter writer) {
    // Submitted here, so that the engine starts on the prompt at once; the answer is written on
    // the engine's thread as the chunks come.
    ex.modelCalled();
    Answer answer = new Answer(ex, writer);
    GenerationStream stream = settings.server().generate(request, answer);
    answer.cancels(stream);
    ex.onClientGone(stream::cancel);
  }

  /** 404 for an unknown model, 400 for one that does not generate (loaded models only). */
  public static void requireGenerative(Settings settings, String model) {
    Optional<ModelMetadata> metadata =
        Models.metadata(settings.server().registry(), Names.ref("model", model));
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
   * Whether the body asks for generation ({@code prompt}) rather than prediction ({@code
   * inputs}); 400 for both.
   */
  public static boolean asksForGeneration(Exchange ex) throws IOException {
    return !asksForPrediction(ex) && hasField(ex, "prompt");
  }

  /**
   * Whether the body asks for Ollama's generation: with a {@code prompt}, or with neither prompt
   * nor {@code inputs} for a model that generates or has not loaded yet (Ollama's prompt-less
   * generate, which loads the model); a prompt-less body for a model that predicts is the native
   * API's.
   */
  public static boolean asksForOllamaGeneration(Settings settings, Exchange ex)
      throws IOException {
    if (asksForPrediction(ex)) {
      return false;
    }
    if (hasField(ex, "prompt")) {
      return true;
    }
    JsonNode model = LlmRequests.object(ex).get("model");
    if (model == null || !model.isTextual()) {
      return false;
    }
    Optional<ModelMetadata> metadata;
    try {
      metadata = Models.metadata(settings.server().registry(), Names.ref("model",
          model.asText()));
    } catch (RuntimeException badName) {
      return false;
    }
    return metadata.isEmpty() || metadata.get().capabilities().contains(Capability.GENERATIVE);
  }

  private static boolean hasField(Exchange ex, String name) throws IOException {
    try (JsonParser p = Json.parser(ex.body())) {
      p.nextToken();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        if (p.currentName().equals(name)) {
          return true;
        }
        p.nextToken();
        p.skipChildren();
      }
    }
    return false;
  }

  /** Whether the body has {@code inputs} (and no {@code prompt}: 400 for both). */
  private static boolean asksForPrediction(Exchange ex) throws IOException {
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
    return inputs;
  }

  /**
   * The body of an error that ends a stream, in {@code shape}: a failure no rule maps keeps its
   * message (the stream is under way; there is no status left to set) as a backend error.
   */
  public static byte[] streamError(ErrorShape shape, RuntimeException e) {
    Failure f = Failure.of(e, 0);
    if (f.unexpected()) {
      f = new Failure(500, String.valueOf(e.getMessage()), ErrorCode.BACKEND_ERROR, null, null,
          false);
    }
    return shape.render(f);
  }

  /**
   * Writes one generation's answer as its chunks come, on the engine's thread that makes them,
   * without blocking it: a chunk is rendered at once and written when the previous write is done,
   * so chunks that come while the client is behind go out together, in one write. A refusal
   * before the first chunk gets its own status; a failure after it goes in the body, as the
   * dialect does; a client that went away, or a write that failed, cancels the generation.
   */
  private static final class Answer implements GenerationListener {
    private final Exchange ex;
    private final GenerationWriter writer;
    private final StringBuilder text = new StringBuilder();
    private volatile @Nullable GenerationStream stream;
    private volatile boolean cancelWanted;
    // Guarded by this: pending (what is rendered and not yet handed to Jetty), started, writing,
    // finished (the last chunk, or the error that ends the stream, is rendered) and ended.
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream(512);
    private boolean started;
    private boolean writing;
    private boolean finished;
    private boolean ended;

    Answer(Exchange ex, GenerationWriter writer) {
      this.ex = ex;
      this.writer = writer;
    }

    /** Takes the stream to cancel; cancels it at once when a write failed before it came. */
    void cancels(GenerationStream s) {
      stream = s;
      if (cancelWanted) {
        s.cancel();
      }
    }

    private void cancel() {
      cancelWanted = true;
      GenerationStream s = stream;
      if (s != null) {
        s.cancel();
      }
    }

    @Override
    public void onChunk(GenerationChunk chunk) {
      text.append(chunk.text());
      try {
        if (writer.streams()) {
          stream(chunk);
        } else if (chunk.last()) {
          GenerationResult r = new GenerationResult(text.toString(),
              chunk.finish().orElseThrow(), Objects.requireNonNull(chunk.usage()),
              Objects.requireNonNull(chunk.timings()));
          ex.json(200, Json.write(g -> writer.whole(g, r)));
        }
      } catch (IOException | RuntimeException e) {
        cancel();
        fail(e);
      }
    }

    private void stream(GenerationChunk chunk) throws IOException {
      synchronized (this) {
        if (finished) {
          return;
        }
        if (!started) {
          started = true;
          ex.startStream(writer.framing().contentType());
          writer.open(pending);
        }
        writer.chunk(pending, chunk, text);
        finished = chunk.last();
      }
      writeNext();
    }

    /** Hands Jetty what is pending unless a write is under way; ends the stream once all is out. */
    private void writeNext() {
      byte[] bytes;
      synchronized (this) {
        if (writing || ended) {
          return;
        }
        if (pending.size() == 0) {
          if (!finished) {
            return;
          }
          ended = true;
          bytes = null;
        } else {
          bytes = pending.toByteArray();
          pending.reset();
          writing = true;
        }
      }
      if (bytes == null) {
        ex.endStream(null);
      } else {
        ex.write(bytes, failure -> {
          if (failure == null) {
            written();
          } else {
            writeFailed(failure);
          }
        });
      }
    }

    private void written() {
      synchronized (this) {
        writing = false;
      }
      writeNext();
    }

    /** The client went away: the generation stops at once and frees its sequence. */
    private void writeFailed(Throwable failure) {
      synchronized (this) {
        writing = false;
        if (ended) {
          return;
        }
        ended = true;
      }
      cancel();
      ex.endStream(failure);
    }

    @Override
    public void onError(ModelServingException error) {
      fail(error);
    }

    /** Before the status: the error's own status; after it, the error in the body. */
    private void fail(Throwable failure) {
      boolean beforeStream;
      synchronized (this) {
        if (finished) {
          return;
        }
        finished = true;
        beforeStream = !started;
        if (!beforeStream) {
          RuntimeException e = failure instanceof RuntimeException re ? re
              : new IllegalStateException(failure);
          try {
            writer.error(pending, e);
          } catch (IOException impossible) {
            throw new java.io.UncheckedIOException(impossible);   // a byte array does not fail
          }
        }
      }
      if (beforeStream) {
        ex.fail(failure);   // its own status
      } else {
        writeNext();
      }
    }
  }
}
