package dev.modserv.llama;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.spi.ModelSource;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad options fail the load with a clear message before any native code runs. */
class LlamaOptionsTest {
  private final LlamaBackend backend = new LlamaBackend();

  private void refused(String key, String value, String message) {
    assertThatThrownBy(() -> backend.load(ModelSource.of(Fixtures.tiny()).withOption(key, value)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }

  @Test
  void refusesValuesThatWouldCrashOrMisconfigureLlamaCpp() {
    refused("pooling", "mean", "pooling mean is refused");
    refused("context-size", "0", "llama option 'context-size': expected 64 to 1048576, got 0");
    refused("threads", "-1", "llama option 'threads': expected 1 to 512, got -1");
    refused("parallel", "0", "llama option 'parallel': expected 1 to 256, got 0");
    refused("parallel", "64", "give each at least 64");
    refused("seed", "-3", "llama option 'seed': expected 0 to 2147483647, got -3");
    refused("seed", "4294967295", "'seed': expected 0 to 2147483647, got 4294967295");
    refused("embedding", "yes", "llama option 'embedding': expected true or false, got 'yes'");
    refused("mode", "thread", "mode must be worker or in-process");
    refused("n-probs", "3", "unknown llama option 'n-probs'; known options: batch-size,");
    refused("worker-jvm-options", "Xmx1g", "each starting with '-'");
    refused("context-size", "lots", "'context-size': expected a whole number, got 'lots'");
    refused("gpu-layers", "-1", "llama option 'gpu-layers': expected 0 to 4096, got -1");
    refused("chat-template", "{{ messages }}",
        "llama option 'chat-template': expected one of llama.cpp's built-in templates");
  }

  @Test
  void poolingNeedsEmbedding() {
    refused("pooling", "last", "pooling needs embedding=true");
  }

  @Test
  void recognisesGgufByNameAndMagic(@TempDir Path dir) throws Exception {
    assertThat(backend.supports(ModelSource.of(Fixtures.tiny()))).isTrue();
    assertThat(new LlamaBackendProvider().supports(ModelSource.of(Fixtures.tiny()))).isTrue();
    Path fake = Files.writeString(dir.resolve("fake.gguf"), "not a model");
    assertThat(backend.supports(ModelSource.of(fake))).isFalse();
    Path other = Files.copy(Fixtures.tiny(), dir.resolve("model.onnx"));
    assertThat(backend.supports(ModelSource.of(other))).isFalse();
  }

  @Test
  void aMissingFileIsALoadFailure(@TempDir Path dir) {
    assertThatThrownBy(() -> backend.load(ModelSource.of(dir.resolve("none.gguf"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a GGUF file");
  }
}
