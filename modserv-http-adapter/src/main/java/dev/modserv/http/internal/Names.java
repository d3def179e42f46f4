package dev.modserv.http.internal;

import dev.modserv.api.ModelRef;

/**
 * Model names from clients, checked once at the edge by every route that takes one: the rule is
 * {@link ModelRef#requireName}'s (1 to 128 letters, digits, {@code . _ - /}, starting with a letter
 * or digit, no empty, {@code .} or {@code ..} part between slashes). A bad name is 400 naming the
 * field, its text escaped and cut ({@link ClientText}); a well-formed name that no model has is
 * left for the registry to answer 404.
 */
public final class Names {
  private Names() {}

  /** Returns {@code text}, the model name in {@code field}, once it is valid. */
  public static String model(String field, String text) {
    try {
      return ModelRef.requireName(text);
    } catch (IllegalArgumentException e) {
      throw bad(field, text);
    }
  }

  /**
   * Reads {@code name}, {@code name:version} or {@code name:label} (the form the OpenAI and Ollama
   * routes take, as {@code iris:2} or {@code iris:stable}) from {@code field}.
   */
  public static ModelRef ref(String field, String text) {
    int colon = text.lastIndexOf(':');
    if (colon < 0) {
      return ModelRef.of(model(field, text));
    }
    String name = model(field, text.substring(0, colon));
    return Versions.ref(name, field, text.substring(colon + 1));
  }

  private static HttpError bad(String field, String text) {
    return HttpError.badField(field, "invalid model name " + ClientText.quote(text) + ": use 1 to "
        + "128 letters, digits, '.', '_', '-' or '/', starting with a letter or digit, with no"
        + " empty, '.' or '..' part between slashes"
        + (text.indexOf(':') >= 0 ? " (a version goes in its own field or path, not after ':')"
            : ""));
  }
}
