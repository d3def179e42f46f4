package dev.modserv.http.internal;

import java.util.Locale;

/** How a dialect writes a {@link Failure} as an error body. */
@FunctionalInterface
public interface ErrorShape {
  /** {@code {"error": "message"}}: the native, OIP, management and Ollama routes. */
  ErrorShape PLAIN = f -> Json.error(f.message());

  /**
   * An item of a native batch answer: {@code {"error", "status", "code"?}}, the code (upper case)
   * when one applies.
   */
  ErrorShape BATCH_ITEM = f -> Json.write(g -> {
    g.writeStartObject();
    g.writeStringField("error", f.message());
    g.writeNumberField("status", f.status());
    if (f.code() != null) {
      g.writeStringField("code", f.code().name());
    }
    g.writeEndObject();
  });

  /**
   * OpenAI's {@code {"error": {"message", "type", "param", "code"}}}: {@code type} from the status,
   * {@code code} the error code in lower case ({@code model_not_found}, {@code queue_full}, ...).
   */
  ErrorShape OPENAI = f -> Json.write(g -> {
    g.writeStartObject();
    g.writeObjectFieldStart("error");
    g.writeStringField("message", f.message());
    g.writeStringField("type", switch (f.status()) {
      case 400, 413, 422 -> "invalid_request_error";
      case 401 -> "authentication_error";
      case 404 -> "not_found_error";
      default -> "api_error";
    });
    if (f.field() == null) {
      g.writeNullField("param");
    } else {
      g.writeStringField("param", f.field());
    }
    if (f.code() == null) {
      g.writeNullField("code");
    } else {
      g.writeStringField("code", f.code().name().toLowerCase(Locale.ROOT));
    }
    g.writeEndObject();
    g.writeEndObject();
  });

  /** Returns the body that answers {@code failure}. */
  byte[] render(Failure failure);
}
