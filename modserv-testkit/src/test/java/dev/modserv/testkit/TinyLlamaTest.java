package dev.modserv.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GGUF writer's header and layout (the llama module's tests load what it writes). */
class TinyLlamaTest {

  @Test
  void writesAGgufV3HeaderTheKeysAndAlignedData(@TempDir Path dir) throws Exception {
    Path file = TinyLlama.builder().width(64).layers(2).build().write(dir.resolve("t.gguf"));
    byte[] bytes = Files.readAllBytes(file);
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(new String(bytes, 0, 4, java.nio.charset.StandardCharsets.US_ASCII))
        .isEqualTo("GGUF");
    assertThat(b.getInt(4)).isEqualTo(3);
    assertThat(b.getLong(8)).isEqualTo(1 + 2 * 9 + 2);       // tensors
    assertThat(b.getLong(16)).isEqualTo(20);                  // key/values
    String text = new String(bytes, 0, Math.min(bytes.length, 200_000),
        java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(text).contains("general.architecture", "llama.block_count",
        "tokenizer.ggml.tokens", "tokenizer.chat_template", "<0xFF>", "blk.1.ffn_down.weight");
    // Weights: vocab x 64 twice (embeddings, output) + 2 blocks, FP32, about 0.6 MB.
    int vocab = TinyLlama.vocabulary().size();
    long weights = 4L * (2L * vocab * 64 + 2 * (4 * 64 * 64 + 3 * 64 * 128 + 2 * 64) + 64);
    assertThat(bytes.length).isBetween((int) weights, (int) weights + 100_000);
  }

  @Test
  void theSameSeedWritesTheSameFile(@TempDir Path dir) throws Exception {
    Path a = TinyLlama.builder().seed(5).build().write(dir.resolve("a.gguf"));
    Path b = TinyLlama.builder().seed(5).build().write(dir.resolve("b.gguf"));
    Path c = TinyLlama.builder().seed(6).build().write(dir.resolve("c.gguf"));
    assertThat(Files.mismatch(a, b)).isEqualTo(-1);
    assertThat(Files.mismatch(a, c)).isNotEqualTo(-1);
  }

  @Test
  void theVocabularyHasByteFallbackAndWholeWords() {
    assertThat(TinyLlama.vocabulary()).startsWith("<unk>", "<s>", "</s>", "<0x00>")
        .contains("<0xFF>", "\u2581", "\u2581hello", "\u2581hell", "hello");
    assertThat(TinyLlama.vocabulary()).doesNotHaveDuplicates();
    assertThatThrownBy(() -> TinyLlama.builder().width(10).heads(4).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple");
  }
}
