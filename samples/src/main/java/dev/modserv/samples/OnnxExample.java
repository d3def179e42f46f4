package dev.modserv.samples;

import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelServer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Embeds a {@link ModelServer} in a plain Java program and serves an ONNX model with it: no
 * framework, no HTTP. The ONNX engine is found on the class path ({@code modserv-onnx}).
 *
 * <pre>
 * java -cp ... dev.modserv.samples.OnnxExample model.onnx 0.5 -1 2 0.25
 * </pre>
 */
public final class OnnxExample {
  private OnnxExample() {}

  /**
   * Loads {@code onnxFile} as version 1 of "mlp" and returns its output {@code y} for one row of
   * features (the model's input {@code x} is FP32 {@code [batch, n]}).
   */
  public static float[] predict(Path onnxFile, float[] features) {
    try (ModelServer server = ModelServer.builder().build()) {
      server.registry().load("mlp", 1, onnxFile).join();
      InferenceResult result = server.infer("mlp",
          Map.of("x", Tensor.of(features, 1, features.length)));
      return result.requireOutput("y").toFloatArray();
    }
  }

  /** {@code OnnxExample <model.onnx> <feature>...}: prints the model's output. */
  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: OnnxExample <model.onnx> <feature>...");
      System.exit(2);
    }
    float[] features = new float[args.length - 1];
    for (int i = 1; i < args.length; i++) {
      features[i - 1] = Float.parseFloat(args[i]);
    }
    System.out.println(Arrays.toString(predict(Path.of(args[0]), features)));
  }
}
