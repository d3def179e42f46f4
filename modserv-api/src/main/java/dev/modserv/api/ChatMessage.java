package dev.modserv.api;

import java.util.Objects;

/**
 * One message of a chat, rendered into a prompt with the model's chat template.
 *
 * @param role {@code system}, {@code user} or {@code assistant}
 * @param content the message's text
 */
public record ChatMessage(String role, String content) {

  /** Checks the role. */
  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
    if (!role.equals("system") && !role.equals("user") && !role.equals("assistant")) {
      throw new ModelServingException(ErrorCode.INVALID_INPUT, "a chat message's role must be"
          + " system, user or assistant; got '" + role + "'");
    }
  }

  /** Returns a system message. */
  public static ChatMessage system(String content) {
    return new ChatMessage("system", content);
  }

  /** Returns a user message. */
  public static ChatMessage user(String content) {
    return new ChatMessage("user", content);
  }

  /** Returns an assistant message. */
  public static ChatMessage assistant(String content) {
    return new ChatMessage("assistant", content);
  }
}
