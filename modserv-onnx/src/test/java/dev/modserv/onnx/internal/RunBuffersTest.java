package dev.modserv.onnx.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RunBuffersTest {
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();

  @Test
  void aTensorOfTheSameShapeIsReusedAndAnotherShapeClosesIt() throws Exception {
    try (RunBuffers buffers = new RunBuffers()) {
      OnnxTensor first = buffers.input(env, "x", Tensor.of(new float[] {1, 2, 3, 4}, 1, 4));
      OnnxTensor again = buffers.input(env, "x", Tensor.of(new float[] {5, 6, 7, 8}, 1, 4));
      assertThat(again).isSameAs(first);
      assertThat(again.getFloatBuffer().array()).containsExactly(5, 6, 7, 8);
      OnnxTensor two = buffers.input(env, "x", Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 4));
      assertThat(first.isClosed()).isTrue();
      assertThat(two.getInfo().getShape()).containsExactly(2, 4);
      assertThat(two.getFloatBuffer().array()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
      // Growing past the buffer's capacity makes a new buffer and closes the tensor over the old.
      OnnxTensor big = buffers.input(env, "x", Tensor.zeros(DataType.FP32, 64, 4));
      assertThat(two.isClosed()).isTrue();
      assertThat(big.isClosed()).isFalse();
      buffers.close();
      assertThat(big.isClosed()).isTrue();
    }
  }

  @Test
  void directAndStringTensorsAndTensorsOverTheLimitAreNotCopied() throws Exception {
    try (RunBuffers buffers = new RunBuffers()) {
      ByteBuffer direct = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
      assertThat(buffers.input(env, "d", Tensor.wrap(DataType.FP32, direct, 1, 4))).isNull();
      assertThat(buffers.input(env, "s", Tensor.of(new String[] {"a"}, 1))).isNull();
      assertThat(buffers.input(env, "big",
          Tensor.zeros(DataType.INT8, RunBuffers.MAX_BYTES + 1L))).isNull();
      assertThat(buffers.output(env, "y", DataType.FP32, new long[] {RunBuffers.MAX_BYTES, 1}))
          .isNull();
      assertThat(buffers.output(env, "y", DataType.FP64,
          new long[] {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE})).isNull();
    }
  }

  @Test
  void aPoolKeepsOneSetPerSlotAndClosesTheRest() throws Exception {
    RunBuffers.Pool pool = new RunBuffers.Pool(1);
    RunBuffers a = pool.take();
    RunBuffers b = pool.take();
    assertThat(b).isNotSameAs(a);
    OnnxTensor ta = a.input(env, "x", Tensor.of(new float[] {1}, 1, 1));
    OnnxTensor tb = b.input(env, "x", Tensor.of(new float[] {1}, 1, 1));
    pool.giveBack(a);
    pool.giveBack(b);
    assertThat(ta.isClosed()).isFalse();
    assertThat(tb.isClosed()).as("no slot was free for it").isTrue();
    assertThat(pool.take()).isSameAs(a);
    pool.giveBack(a);
    pool.close();
    assertThat(ta.isClosed()).isTrue();
  }

  @Test
  void aSessionOffTheCpuRunsWithoutPresizedOutputs() throws Exception {
    // As on a device provider: every output allocated by ONNX Runtime, the inputs still copied.
    OrtSession session = env.createSession(
        Path.of("src", "test", "resources", "models", "mlp.onnx").toString(),
        new OrtSession.SessionOptions());
    OnnxModel offCpu = new OnnxModel(env, session, "onnxruntime", Map.of(), 0, 1, false);
    try {
      float[] x = {0.5f, -1.0f, 2.0f, 0.25f};
      Tensor expected;
      try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, 4});
          OrtSession.Result r = session.run(Map.of("x", in))) {
        expected = Tensor.of(((float[][]) r.get(0).getValue())[0], 1, 3);
      }
      for (int run = 0; run < 3; run++) {
        assertThat(offCpu.run(Map.of("x", Tensor.of(x, 1, 4)), Set.of()).get("y"))
            .isEqualTo(expected);
      }
    } finally {
      offCpu.close();
    }
  }
}
