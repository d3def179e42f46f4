package dev.modserv.http.internal;

import dev.modserv.api.ErrorCode;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** How a dialect writes an error body. */
@FunctionalInterface
public interface ErrorFormat {
  /** {@code {"error": "message"}}: the native, OIP, management and Ollama routes. */
  ErrorFormat PLAIN = (status, message, code, field) -> Json.error(message);

  /**
   * OpenAI's {@code {"error": {"message", "type", "param", "code"}}}: {@code type} from the status,
   * {@code code} the error code in lower case ({@code model_not_found}, {@code queue_full}, ...).
   */
  ErrorFormat OPENAI = (status, message, code, field) -> Json.write(g -> {
    g.writeStartObject();
    g.writeObjectFieldStart("error");
    g.writeStringField("message", message);
    g.writeStringField("type", switch (status) {
      case 400, 413, 422 -> "invalid_request_error";
      case 401 -> "authentication_error";
      case 404 -> "not_found_error";
      default -> "api_error";
    });
    if (field == null) {
      g.writeNullField("param");
    } else {
      g.writeStringField("param", field);
    }
    if (code == null) {
      g.writeNullField("code");
    } else {
      g.writeStringField("code", code.name().toLowerCase(Locale.ROOT));
    }
    g.writeEndObject();
    g.writeEndObject();
  });

  /** Returns the body of an error answered with {@code status}. */
  byte[] render(int status, String message, @Nullable ErrorCode code, @Nullable String field);
}
