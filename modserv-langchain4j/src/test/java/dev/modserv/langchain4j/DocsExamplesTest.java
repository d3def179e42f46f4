package dev.modserv.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Java blocks of docs/langchain4j.md are regions of tests that compile and run. */
class DocsExamplesTest {
  static final Path DOC = Path.of("..", "docs", "langchain4j.md");

  @Test
  void parametersExampleSetsModservsOwnParameters() throws IOException {
    // DOCS-PARAMETERS-START
    ChatRequest request = ChatRequest.builder()
        .messages(UserMessage.from("Hello"))
        .parameters(ModservChatRequestParameters.builder().temperature(0.0).seed(7L).build())
        .build();
    // DOCS-PARAMETERS-END
    assertThat(request.parameters()).isInstanceOfSatisfying(ModservChatRequestParameters.class,
        p -> assertThat(p.seed()).isEqualTo(7L));
    assertShown(Path.of("src/test/java/dev/modserv/langchain4j/DocsExamplesTest.java"),
        "PARAMETERS");
  }

  @Test
  void stopExampleIsTheHandlerTheCancellationTestRuns() throws IOException {
    assertShown(Path.of("src/test/java/dev/modserv/langchain4j/ModservChatModelTest.java"),
        "STOP");
  }

  /** Asserts the doc holds region {@code name} of {@code source}, de-indented, as a java block. */
  static void assertShown(Path source, String name) throws IOException {
    List<String> lines = Files.readAllLines(source);
    int start = indexOf(lines, "// DOCS-" + name + "-START") + 1;
    int end = indexOf(lines, "// DOCS-" + name + "-END");
    List<String> region = lines.subList(start, end);
    int indent = region.stream().filter(l -> !l.isBlank())
        .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
    String block = String.join("\n", region.stream()
        .map(l -> l.isBlank() ? "" : l.substring(indent)).toList());
    assertThat(end - start).isPositive();
    assertThat(Files.readString(DOC)).contains("```java\n" + block + "\n```");
  }

  private static int indexOf(List<String> lines, String marker) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).strip().equals(marker)) {
        return i;
      }
    }
    throw new AssertionError("no " + marker);
  }
}
