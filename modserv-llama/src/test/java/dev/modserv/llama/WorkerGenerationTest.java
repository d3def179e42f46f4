package dev.modserv.llama;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.FinishReason;
import dev.modserv.api.GenerationRequest;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class WorkerGenerationTest {
  private static LoadedModel model;

  @BeforeAll
  static void load() throws Exception {
    model = new LlamaBackend().load(ModelSource.of(Fixtures.tiny())
        .withOption("context-size", "1024").withOption("threads", "2"));
  }

  @AfterAll
  static void close() throws Exception {
    model.close();
  }

  @Test
  void generatesToTheTokenLimitWithLength() throws Exception {
    Collector c = new Collector();
    model.generate(GenerationRequest.builder("m").prompt("hello world").maxTokens(16)
        .temperature(0).build(), c);
    Collector.End end = c.await();
    assertThat(end.reason()).isEqualTo(FinishReason.LENGTH);
    assertThat(end.usage().completionTokens()).isEqualTo(16);
    assertThat(end.usage().promptTokens()).isPositive();
    assertThat(end.text()).isNotEmpty();
  }
}
