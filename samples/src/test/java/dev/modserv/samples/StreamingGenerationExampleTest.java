package dev.modserv.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationChunk;
import dev.modserv.testkit.TinyLlama;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sample on a generated GGUF (random weights: the text is gibberish, its shape is not). */
class StreamingGenerationExampleTest {
  @TempDir Path dir;

  @Test
  void streamsTheAnswerPieceByPiece() throws Exception {
    Path gguf = TinyLlama.builder().build().write(dir.resolve("tiny.gguf"));
    List<String> pieces = new ArrayList<>();
    GenerationChunk last = StreamingGenerationExample.ask(gguf, "Why is the sky blue?", 16,
        pieces::add);
    assertThat(pieces.size()).isGreaterThan(1);
    assertThat(last.finishReason()).isEqualTo(FinishReason.LENGTH);
    assertThat(last.usage().completionTokens()).isEqualTo(16);
    assertThat(last.usage().promptTokens()).isGreaterThan(5);
  }
}
