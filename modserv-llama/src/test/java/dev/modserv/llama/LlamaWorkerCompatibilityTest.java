package dev.modserv.llama;

import dev.modserv.api.Tensor;
import dev.modserv.spi.Backend;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.BackendCompatibilityKit;
import java.util.Map;

/** The worker mode passes the conformance kit, on the tiny model loaded for embeddings. */
class LlamaWorkerCompatibilityTest extends BackendCompatibilityKit {
  private static final LlamaBackend BACKEND = new LlamaBackend();

  @Override
  protected Backend backend() {
    return BACKEND;
  }

  @Override
  protected ModelSource source() {
    return ModelSource.of(Fixtures.tiny()).withOption("embedding", "true")
        .withOption("context-size", "256").withOption("threads", "1");
  }

  @Override
  protected Map<String, Tensor> sampleInputs() {
    return Map.of("text", Tensor.of(new String[] {"hello world", "serve the model"}, 2));
  }
}
