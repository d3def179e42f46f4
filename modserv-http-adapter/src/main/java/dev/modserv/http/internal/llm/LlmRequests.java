package dev.modserv.http.internal.llm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.api.ChatMessage;
import dev.modserv.api.GenerationRequest;
import dev.modserv.api.ModelServingException;
import dev.modserv.http.internal.ClientText;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.Names;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** Reading the JSON bodies of the LLM dialects (OpenAI, Ollama, management generation). */
public final class LlmRequests {
  private LlmRequests() {}

  /**
   * The start of a generation request: its body, the model it names and a request builder for it.
   *
   * @param body the body, a JSON object
   * @param model the {@code model} field
   * @param builder a generation request for {@code model}, to complete
   */
  public record Generation(JsonNode body, String model, GenerationRequest.Builder builder) {}

  /**
   * Reads the body and its {@code model} field, and starts a request for that model; for a chat,
   * with its {@code messages} (content as text parts too when {@code partsAllowed}).
   */
  public static Generation generation(Exchange ex, boolean chat, boolean partsAllowed)
      throws IOException {
    JsonNode body = object(ex);
    String model = text(body, "model", null);
    GenerationRequest.Builder b = GenerationRequest.builder(Names.ref("model", model));
    if (chat) {
      b.messages(messages(body.get("messages"), "messages", partsAllowed));
    }
    return new Generation(body, model, b);
  }

  /** Reads the body as a JSON object, or 400. */
  public static JsonNode object(Exchange ex) throws IOException {
    JsonNode root = Json.MAPPER.readTree(Json.parser(ex.body()));
    if (root == null || !root.isObject()) {
      throw HttpError.badField("", "expected a JSON object");
    }
    return root;
  }

  /** Reads a non-empty string field: {@code otherwise} when absent, or 400 when it is null. */
  public static String text(JsonNode body, String field, @Nullable String otherwise) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      if (otherwise == null) {
        throw HttpError.badField(field, "is required");
      }
      return otherwise;
    }
    if (!n.isTextual() || n.asText().isEmpty()) {
      throw HttpError.badField(field, "expected a non-empty string, got "
          + Json.describe(n.asToken()));
    }
    return n.asText();
  }

  /** Reads a boolean field, {@code otherwise} when absent. */
  public static boolean bool(JsonNode body, String field, boolean otherwise) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return otherwise;
    }
    if (!n.isBoolean()) {
      throw HttpError.badField(field, "expected true or false");
    }
    return n.asBoolean();
  }

  /** Reads a number, or 400 naming {@code path} (also for one too large for a double). */
  public static double number(JsonNode v, String path) {
    if (!v.isNumber()) {
      throw HttpError.badField(path, "expected a number, got " + Json.describe(v.asToken()));
    }
    double d = v.asDouble();
    if (!Double.isFinite(d)) {
      throw HttpError.badField(path, "expected a number, got " + ClientText.echo(v.toString())
          + ", which is out of range");
    }
    return d;
  }

  /** Reads a whole number from {@code min} to {@code max}, or 400 naming {@code path}. */
  public static long integer(JsonNode v, String path, long min, long max) {
    long n = integer(v, path);
    if (n < min || n > max) {
      throw HttpError.badField(path, "expected a whole number from " + min + " to " + max
          + ", got " + n);
    }
    return n;
  }

  /** Reads a whole number, or 400 naming {@code path}. */
  public static long integer(JsonNode v, String path) {
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw HttpError.badField(path, "expected a whole number, got " + ClientText.echo(
          v.toString().toLowerCase(Locale.ROOT)));
    }
    return v.asLong();
  }

  /**
   * Applies one of the sampling fields OpenAI's routes and the management API share; false for
   * any other key.
   */
  public static boolean sampling(GenerationRequest.Builder b, String key, JsonNode v) {
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
  public static void noTools(JsonNode v) {
    if (!(v.isArray() && v.isEmpty())) {
      throw HttpError.badField("tools", "tool calling is not supported by this server");
    }
  }

  /** Reads chat messages {@code [{role, content}]}; OpenAI's may give content as text parts. */
  public static List<ChatMessage> messages(@Nullable JsonNode node, String path,
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
      // OpenAI's newer name for the system message.
      if (role.equals("developer")) {
        role = "system";
      }
      String text = content(m.get("content"), at, partsAllowed);
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

  private static String content(@Nullable JsonNode content, String at, boolean partsAllowed) {
    if (content != null && content.isTextual()) {
      return content.asText();
    }
    if (!partsAllowed || content == null || !content.isArray()) {
      throw HttpError.badField(at + ".content", "expected a string");
    }
    StringBuilder sb = new StringBuilder();
    for (int p = 0; p < content.size(); p++) {
      JsonNode part = content.get(p);
      if (!"text".equals(part.path("type").asText())) {
        throw HttpError.badField(at + ".content[" + p + "]", "only text parts are supported");
      }
      sb.append(part.path("text").asText(""));
    }
    return sb.toString();
  }

  /** Reads stop sequences: a string or an array of strings. */
  public static List<String> stops(JsonNode v, String path) {
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
}
