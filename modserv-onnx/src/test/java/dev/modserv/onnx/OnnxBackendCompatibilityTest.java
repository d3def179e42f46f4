package dev.modserv.onnx;

import dev.modserv.api.Tensor;
import dev.modserv.spi.Backend;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.BackendCompatibilityKit;
import java.util.Map;

/** ONNX Runtime passes the conformance kit, on the committed MLP (4 -> 8 -> 3, dynamic batch). */
class OnnxBackendCompatibilityTest extends BackendCompatibilityKit {
  private static final OnnxBackend BACKEND = new OnnxBackend();

  @Override
  protected Backend backend() {
    return BACKEND;
  }

  @Override
  protected ModelSource source() {
    return ModelSource.of(TestModels.model("mlp.onnx"));
  }

  @Override
  protected Map<String, Tensor> sampleInputs() {
    return Map.of("x", Tensor.of(new float[] {0.5f, -1, 2, 0.25f, 1.5f, 0, -0.5f, 3}, 2, 4));
  }
}
