package dev.modserv.server.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import java.nio.file.Path;
import java.util.List;

/**
 * A {@code model.yaml} with problems: every bad key at once, one line each, naming the file and
 * the key. Its code is {@link ErrorCode#LOAD_FAILED}.
 */
public final class ModelConfigException extends ModelServingException {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  ModelConfigException(Path file, List<String> problems) {
    super(ErrorCode.LOAD_FAILED, file + " has " + problems.size()
        + (problems.size() == 1 ? " problem" : " problems") + "; fix them and save the file:\n"
        + String.join("\n", problems.stream().map(p -> file + ": " + p).toList()));
    this.problems = List.copyOf(problems);
  }

  /** Returns the problems, one per bad key ({@code key: what is wrong}), without the file. */
  public List<String> problems() {
    return problems;
  }
}
