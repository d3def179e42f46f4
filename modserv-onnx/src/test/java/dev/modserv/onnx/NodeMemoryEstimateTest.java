package dev.modserv.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.SlowOnnxModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node fit estimate of an ONNX model, from its initializers, without loading it. */
class NodeMemoryEstimateTest {
  @TempDir Path dir;

  @Test
  void theInitializersAreSummedFromTheFile() throws Exception {
    // A width × width FP32 matrix and one INT64.
    Path model = SlowOnnxModel.write(dir.resolve("m.onnx"), 512, 3);
    OnnxBackend onnx = new OnnxBackend();
    long initializers = 512L * 512 * 4 + 8;
    assertThat(onnx.nodeMemoryBytes(ModelSource.of(model), 0))
        .isEqualTo(initializers + OnnxBackend.NODE_SESSION_BYTES);
    assertThat(onnx.runtimeBytes()).isEqualTo(OnnxBackend.RUNTIME_BYTES);
    assertThat(onnx.usesGpu()).isFalse();
    // A folder holding it is read the same way.
    Path folder = Files.createDirectories(dir.resolve("folder"));
    Files.copy(model, folder.resolve("model.onnx"));
    assertThat(onnx.nodeMemoryBytes(ModelSource.of(folder), 0))
        .isEqualTo(initializers + OnnxBackend.NODE_SESSION_BYTES);
  }

  @Test
  void aFileThatIsNotAnOnnxModelHasNoEstimate() throws Exception {
    Path junk = Files.write(dir.resolve("junk.onnx"), new byte[] {(byte) 0x0a, (byte) 0xff,
        (byte) 0xff, (byte) 0xff, (byte) 0x0f});
    assertThat(new OnnxBackend().nodeMemoryBytes(ModelSource.of(junk), 0)).isEqualTo(-1);
    assertThat(new OnnxBackend().nodeMemoryBytes(ModelSource.of(dir.resolve("none.onnx")), 0))
        .isEqualTo(-1);
  }
}
