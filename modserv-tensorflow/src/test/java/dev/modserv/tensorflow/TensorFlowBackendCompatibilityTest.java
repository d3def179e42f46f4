package dev.modserv.tensorflow;

import dev.modserv.api.Tensor;
import dev.modserv.spi.Backend;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.BackendCompatibilityKit;
import java.util.Map;

/** TensorFlow passes the conformance kit, on the softmax regression built by the tests. */
class TensorFlowBackendCompatibilityTest extends BackendCompatibilityKit {
  private static final TensorFlowBackend BACKEND = new TensorFlowBackend();

  @Override
  protected Backend backend() {
    return BACKEND;
  }

  @Override
  protected ModelSource source() {
    return ModelSource.of(TestSavedModels.softmax());
  }

  @Override
  protected Map<String, Tensor> sampleInputs() {
    return Map.of("x", Tensor.of(new float[] {0.5f, -1, 2, 0.25f, 1.5f, 0, -0.5f, 3}, 2, 4));
  }
}
