package dev.modserv.llama;

import dev.modserv.testkit.TinyLlama;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The generated GGUF models the tests share, written once per test JVM. */
final class Fixtures {
  private static Path dir;
  private static Path tiny;

  private Fixtures() {}

  /** A 64-wide, 2-layer random llama model (about 0.6 MB). */
  static synchronized Path tiny() {
    if (tiny == null) {
      try {
        dir = Files.createTempDirectory("modserv-llama-test-");
        dir.toFile().deleteOnExit();
        tiny = TinyLlama.builder().width(64).layers(2).build().write(dir.resolve("tiny.gguf"));
        tiny.toFile().deleteOnExit();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return tiny;
  }
}
