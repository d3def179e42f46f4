package dev.modserv.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddingExampleTest {

  @Test
  void embedsWithTheMiniLmFromItsArtifact(@TempDir Path cache) {
    float[][] v = EmbeddingExample.embed(cache,
        List.of("A man is eating food.", "A man is eating pasta.", "The sky is blue."));
    assertThat(v).hasNumberOfRows(3);
    assertThat(v[0]).hasSize(384);
    assertThat(cosine(v[0], v[1])).as("two meals are closer than a meal and the sky")
        .isGreaterThan(cosine(v[0], v[2]) + 0.2);
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

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
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
