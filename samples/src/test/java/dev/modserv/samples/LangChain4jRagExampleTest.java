package dev.modserv.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.model.output.FinishReason;
import dev.modserv.testkit.TinyLlama;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample with the int8 all-MiniLM-L6-v2 (copied by the build out of its Maven artifact into
 * target/minilm) retrieving, and a generated GGUF answering (random weights: gibberish, of the
 * asked length).
 */
class LangChain4jRagExampleTest {
  @TempDir Path dir;

  @Test
  void retrievesTheClosestDocumentAndAnswersFromIt() throws Exception {
    Path gguf = TinyLlama.builder().build().write(dir.resolve("tiny.gguf"));
    List<String> documents = List.of(
        "The Eiffel Tower is in Paris and is 330 metres tall.",
        "Plants turn sunlight, water and carbon dioxide into sugar by photosynthesis.",
        "The Java virtual machine runs bytecode compiled from Java source.");
    LangChain4jRagExample.Answer answer = LangChain4jRagExample.ask(
        Path.of(System.getProperty("modserv.minilm")), gguf, documents,
        "How do plants make food from light?", 8);
    assertThat(answer.source()).isEqualTo(documents.get(1));
    assertThat(answer.response().finishReason()).isEqualTo(FinishReason.LENGTH);
    assertThat(answer.response().tokenUsage().outputTokenCount()).isEqualTo(8);
    // The retrieved document is in the prompt.
    assertThat(answer.response().tokenUsage().inputTokenCount()).isGreaterThan(20);
  }

  @Test
  void docsShowTheSampleVerbatim() throws IOException {
    List<String> source = Files.readAllLines(
        Path.of("src/main/java/dev/modserv/samples/LangChain4jRagExample.java"));
    int start = source.indexOf("    // LANGCHAIN4J-EXAMPLE-START") + 1;
    int end = source.indexOf("    // LANGCHAIN4J-EXAMPLE-END");
    assertThat(end - start).isBetween(10, 50);
    String sample = String.join("\n", source.subList(start, end));
    assertThat(Files.readString(Path.of("../docs/langchain4j.md")))
        .contains("```java\n" + sample + "\n```");
  }
}
