package dev.modserv.llama;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.llama.internal.GgufHeader;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.TinyLlama;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GGUF header reader on generated files and on broken variants of them. */
class GgufHeaderTest {
  @TempDir Path dir;

  @Test
  void readsTheFactsOfAGeneratedModel() throws Exception {
    Path file = TinyLlama.builder().width(64).layers(3).heads(4).context(256).build()
        .write(dir.resolve("tiny.gguf"));
    GgufHeader h = GgufHeader.read(file);
    int vocab = TinyLlama.vocabulary().size();
    long perLayer = 64 + 4L * 64 * 64 + 64 + 3L * 64 * 128;
    assertThat(h.architecture()).isEqualTo("llama");
    assertThat(h.parameters()).isEqualTo(2L * 64 * vocab + 3 * perLayer + 64);
    assertThat(h.quantization()).isEqualTo("F32");
    assertThat(h.contextLength()).isEqualTo(256);
    assertThat(h.embeddingLength()).isEqualTo(64);
    assertThat(h.blockCount()).isEqualTo(3);
    assertThat(h.headCount()).isEqualTo(4);
    assertThat(h.kvHeadCount()).isEqualTo(4);
    assertThat(h.keyLength()).isEqualTo(16);
    assertThat(h.valueLength()).isEqualTo(16);
    assertThat(h.chatTemplate()).isTrue();
    assertThat(h.pooling()).isEmpty();
    assertThat(h.fileBytes()).isEqualTo(Files.size(file));
    // layers × context × KV heads × (key + value width) × 2 bytes (f16)
    assertThat(h.kvCacheBytes(2048)).isEqualTo(3L * 2048 * 4 * (16 + 16) * 2);
    assertThat(h.memoryBytes(2048)).isEqualTo(Files.size(file) + 3L * 2048 * 4 * 32 * 2);
    assertThat(h.properties()).containsEntry("architecture", "llama")
        .containsEntry("quantization", "F32").containsEntry("chat-template", "true")
        .containsEntry("context-length", "256").containsEntry("embedding-length", "64");
  }

  @Test
  void theEngineReportsTheFileAndItsKvCacheBeforeLoading() throws Exception {
    Path file = Fixtures.tiny();
    long expected = Files.size(file) + 2L * 1024 * 4 * 32 * 2;
    assertThat(new LlamaBackend().memoryBytes(ModelSource.of(file).withOption("context-size",
        "1024"))).isEqualTo(expected);
  }

  @Test
  void weightBytesFollowTheTensorTypesAndShapes() throws Exception {
    int vocab = TinyLlama.vocabulary().size();
    long norms = 64 + 2 * (64 + 64);
    long matrices = 2L * 64 * vocab + 2 * (4L * 64 * 64 + 3L * 64 * 128);
    long[] expected = {4 * (matrices + norms), 2 * matrices + 4 * norms,
        matrices / 32 * 34 + 4 * norms};
    String[] types = {"F32", "F16", "Q8_0"};
    for (int i = 0; i < types.length; i++) {
      Path file = TinyLlama.builder().width(64).layers(2).type(types[i]).build()
          .write(dir.resolve(types[i] + ".gguf"));
      GgufHeader h = GgufHeader.read(file);
      assertThat(h.weightBytes()).as(types[i]).isEqualTo(expected[i]);
      assertThat(h.quantization()).isEqualTo(types[i]);
      assertThat(h.vocabularySize()).isEqualTo(vocab);
      assertThat(h.computeBytes(2048)).isEqualTo(512L * vocab * 4);
      // weights + KV cache + compute buffer + the worker process
      assertThat(new LlamaBackend().nodeMemoryBytes(ModelSource.of(file), 1024)).isEqualTo(
          expected[i] + h.kvCacheBytes(1024) + h.computeBytes(1024)
              + LlamaBackend.WORKER_OVERHEAD_BYTES);
    }
  }

  @Test
  void writesParameterSizesAsOllamaDoes() {
    assertThat(sizeOf(812)).isEqualTo("812");
    assertThat(sizeOf(812_000)).isEqualTo("812K");
    assertThat(sizeOf(1_234_567)).isEqualTo("1.2M");
    assertThat(sizeOf(7_241_732_096L)).isEqualTo("7.2B");
    assertThat(sizeOf(7_000_000_000L)).isEqualTo("7B");
    assertThat(sizeOf(137_000_000L)).isEqualTo("137M");
  }

  private static String sizeOf(long parameters) {
    return new GgufHeader(0, "llama", parameters, "F32", 0, 0, 0, 0, 0, 0, 0, false, "", 0, 0)
        .parameterSize();
  }

  @Test
  void aTruncatedFileFailsInOneLine() throws Exception {
    byte[] whole = Files.readAllBytes(Fixtures.tiny());
    for (int cut : new int[] {10, 30, 200, 5000, whole.length / 2, whole.length - 1}) {
      Path file = dir.resolve("cut" + cut + ".gguf");
      Files.write(file, Arrays.copyOf(whole, cut));
      assertThatThrownBy(() -> GgufHeader.read(file)).as("cut at %d", cut)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("GGUF file cut" + cut + ".gguf: ")
          .hasMessageContaining("truncated")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
  }

  @Test
  void wrongMagicIsNotGguf() throws Exception {
    byte[] bytes = Files.readAllBytes(Fixtures.tiny());
    bytes[0] = 'X';
    Path file = Files.write(dir.resolve("bad.gguf"), bytes);
    assertThatThrownBy(() -> GgufHeader.read(file)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("GGUF file bad.gguf: not a GGUF file (its first bytes are not 'GGUF')");
  }

  @Test
  void anUnknownArchitectureIsNamed() throws Exception {
    byte[] bytes = Files.readAllBytes(Fixtures.tiny());
    // "llama" as the architecture's value is the first occurrence after the key.
    int key = indexOf(bytes, "general.architecture".getBytes(StandardCharsets.US_ASCII));
    int value = indexOf(Arrays.copyOfRange(bytes, key, bytes.length),
        "llama".getBytes(StandardCharsets.US_ASCII)) + key;
    System.arraycopy("zzzzz".getBytes(StandardCharsets.US_ASCII), 0, bytes, value, 5);
    Path file = Files.write(dir.resolve("alien.gguf"), bytes);
    assertThatThrownBy(() -> GgufHeader.read(file)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("GGUF file alien.gguf: unknown architecture 'zzzzz' (llama.cpp cannot load"
            + " it)");
  }

  /** The engine reads the header before it starts a worker: a broken file fails at once. */
  @Test
  void loadingABrokenFileFailsWithTheHeadersCause() throws Exception {
    byte[] whole = Files.readAllBytes(Fixtures.tiny());
    Path cut = Files.write(dir.resolve("cut.gguf"), Arrays.copyOf(whole, whole.length / 2));
    for (String mode : new String[] {"worker", "in-process"}) {
      assertThatThrownBy(() -> new LlamaBackend().load(ModelSource.of(cut)
          .withOption("mode", mode))).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("GGUF file cut.gguf: truncated: its tensors need ");
    }
    assertThat(new LlamaBackend().memoryBytes(ModelSource.of(cut))).isEqualTo(-1);
  }

  @Test
  void hostileCountsAndLengthsFailCleanly() throws Exception {
    assertThatThrownBy(() -> GgufHeader.read(header(3, 1L << 40, 0, new byte[0])))
        .hasMessageContaining("tensor count 1099511627776 is over the limit");
    assertThatThrownBy(() -> GgufHeader.read(header(1, 0, 0, new byte[0])))
        .hasMessageContaining("GGUF version 1 is not supported");
    // One key whose length says 2^62 bytes.
    ByteBuffer key = le(8).putLong(1L << 62);
    assertThatThrownBy(() -> GgufHeader.read(header(3, 0, 1, key.array())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("longer (4611686018427387904 bytes) than the rest of the file");
    // One key "a" holding an array of 2^40 uint8.
    ByteBuffer array = le(8 + 1 + 4 + 4 + 8).putLong(1).put((byte) 'a').putInt(9).putInt(0)
        .putLong(1L << 40);
    assertThatThrownBy(() -> GgufHeader.read(header(3, 0, 1, array.array())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("array a has 1099511627776 items");
    ByteBuffer type = le(8 + 1 + 4).putLong(1).put((byte) 'a').putInt(77);
    assertThatThrownBy(() -> GgufHeader.read(header(3, 0, 1, type.array())))
        .hasMessageContaining("value type 77 of a is not a GGUF type");
  }

  private Path header(int version, long tensors, long keys, byte[] rest) throws Exception {
    ByteBuffer b = le(24 + rest.length).put("GGUF".getBytes(StandardCharsets.US_ASCII))
        .putInt(version).putLong(tensors).putLong(keys).put(rest);
    return Files.write(dir.resolve("hostile.gguf"), b.array());
  }

  private static ByteBuffer le(int n) {
    return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
