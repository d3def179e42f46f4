package app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modserv.api.Tensor;
import dev.modserv.core.ModelServer;
import dev.modserv.onnx.AllMiniLmL6V2;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs the README's example as written; records where the modserv classes came from. */
class ReadmeExampleTest {
  @Test
  void runsTheReadmeExample() throws Exception {
    float[][] vectors = ReadmeExample.embed(Path.of("target", "cache"),
        List.of("A man is eating food.", "A man is eating pasta."));
    assertEquals(2, vectors.length);
    assertEquals(384, vectors[0].length);

    StringBuilder locations = new StringBuilder();
    for (Class<?> c : List.of(Tensor.class, ModelServer.class, AllMiniLmL6V2.class)) {
      locations.append(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()))
          .append('\n');
    }
    Files.writeString(Path.of("target", "modserv-locations.txt"), locations);
  }
}
