package dev.modserv.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class OnnxExampleTest {
  static final Path MLP = Path.of(System.getProperty("modserv.onnx.models",
      "../modserv-onnx/src/test/resources/models"), "mlp.onnx");

  @Test
  void servesTheMlpWithKnownAnswers() {
    // The first row of the ONNX tests' references.json (computed by numpy).
    float[] y = OnnxExample.predict(MLP, new float[] {0.5f, -1.0f, 2.0f, 0.25f});
    assertThat(y).containsExactly(new float[] {0.9723424f, 0.14270413f,
        0.3948334f}, Offset.offset(1e-5f));
  }
}
