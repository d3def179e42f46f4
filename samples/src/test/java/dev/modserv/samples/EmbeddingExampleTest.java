package dev.modserv.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.testkit.FakeBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class EmbeddingExampleTest {

  @Test
  void runsAgainstTheFakeBackend() {
    FakeBackend backend = FakeBackend.builder().build();
    float[] y = EmbeddingExample.predict(backend, Path.of("iris.fake"), new float[] {1, 2, 3, 4});
    assertThat(y).containsExactly(2, 4, 6, 8);
    assertThat(backend.loaded()).singleElement().satisfies(m -> assertThat(m.closeCalls()).isEqualTo(1));
  }

  @Test
  void readmeShowsTheSampleVerbatim() throws IOException {
    List<String> source = Files.readAllLines(Path.of("src/main/java/dev/modserv/samples/EmbeddingExample.java"));
    int start = indexOf(source, "README-EXAMPLE-START") + 1;
    int end = indexOf(source, "README-EXAMPLE-END");
    String sample = String.join("\n", source.subList(start, end));
    String readme = Files.readString(Path.of("../README.md"));
    assertThat(end - start).isBetween(5, 20);
    assertThat(readme).contains("```java\n" + sample + "\n```");
  }

  private static int indexOf(List<String> lines, String marker) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(marker)) {
        return i;
      }
    }
    throw new AssertionError("marker " + marker + " not found");
  }
}
