package dev.modserv.http.internal.llm;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.Capability;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.core.ModelServer;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.Models;
import dev.modserv.http.internal.Names;
import dev.modserv.http.internal.Settings;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** Text embeddings for the OpenAI and Ollama routes: the request's texts, the call, the vectors. */
public final class Embeddings {
  private Embeddings() {}

  /**
   * The texts of an embedding request and the model that embeds them.
   *
   * @param model the model as the request names it
   * @param texts what to embed, at least one
   * @param dimensions the dimensions asked for, or null
   */
  public record Request(String model, List<String> texts, @Nullable Integer dimensions) {}

  /** Writes an answer from the vectors and the token count (-1 when the model counts none). */
  @FunctionalInterface
  public interface Writer {
    void write(JsonGenerator g, float[][] vectors, long tokens) throws IOException;
  }

  /** Reads {@code model}, the texts of {@code field} (a string or strings) and {@code dimensions}. */
  public static Request read(JsonNode body, String field) {
    String model = LlmRequests.text(body, "model", null);
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
    return new Request(model, texts, dimensions(body));
  }

  private static @Nullable Integer dimensions(JsonNode body) {
    JsonNode d = body.get("dimensions");
    if (d == null || d.isNull()) {
      return null;
    }
    if (!d.canConvertToInt() || !d.isIntegralNumber() || d.asInt() < 1) {
      throw HttpError.badField("dimensions", "expected a positive integer, got " + d);
    }
    return d.asInt();
  }

  /** Embeds the request's texts and answers 200 with what {@code writer} writes. */
  public static void embed(Settings settings, Exchange ex, Request req, Writer writer)
      throws Exception {
    ModelRef ref = Names.ref("model", req.model());
    check(Models.metadata(settings.server().registry(), ref), req);
    InferenceRequest request = InferenceRequest.builder(ref)
        .input(Capability.EMBEDDING_INPUT,
            Tensor.of(req.texts().toArray(String[]::new), req.texts().size()))
        .build();
    settings.calls().infer(ex, request, result -> ex.json(200, Json.write(g -> {
      float[][] vectors = ModelServer.vectors(result, req.model(), req.texts().size());
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

  private static void check(Optional<ModelMetadata> metadata, Request req) {
    if (metadata.isEmpty()) {
      return;
    }
    if (!metadata.get().capabilities().contains(Capability.EMBEDDING)
        && metadata.get().capabilities().contains(Capability.GENERATIVE)) {
      throw HttpError.badField("model", "model '" + req.model() + "' generates text and cannot"
          + " embed; use an embedding model (a GGUF loads for embeddings with engine option"
          + " embedding=true)");
    }
    if (!metadata.get().capabilities().contains(Capability.EMBEDDING)) {
      throw HttpError.badField("model", "model '" + req.model() + "' does not embed text; it takes "
          + metadata.get().inputs().stream().map(TensorSpec::name).toList());
    }
    if (req.dimensions() != null) {
      TensorSpec out = metadata.get().output(Capability.EMBEDDING_OUTPUT).orElse(null);
      long dims = out == null || out.rank() != 2 ? -1 : out.shape()[1];
      if (dims > 0 && dims != req.dimensions()) {
        throw HttpError.badField("dimensions", "model '" + req.model() + "' gives " + dims
            + " dimensions and cannot shorten them; leave dimensions out or give " + dims);
      }
    }
  }

  /** The vector as doubles, which Jackson writes with the float's own digits. */
  public static double[] toDoubles(float[] v) {
    // Jackson writes doubles as the shortest text that reads back to the same double; a float
    // widened first keeps the float's own digits (0.1f -> 0.10000000149011612, as OpenAI prints).
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }
}
