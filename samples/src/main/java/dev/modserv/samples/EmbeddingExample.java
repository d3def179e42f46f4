package dev.modserv.samples;

import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelServer;
import dev.modserv.spi.Backend;
import java.nio.file.Path;
import java.util.Map;

/** The README's example: embed a model server, load a model, call it. */
public final class EmbeddingExample {
  private EmbeddingExample() {}

  /** Loads {@code model} as version 1 of "iris" with {@code backend} and returns one prediction. */
  public static float[] predict(Backend backend, Path model, float[] features) {
    // README-EXAMPLE-START
    try (ModelServer server = ModelServer.builder()
        .backend(backend)                  // or put modserv-onnx on the class path
        .build()) {
      // Load version 1; it warms up before it serves.
      server.registry().load("iris", 1, model).join();

      // Call it from any thread; concurrent calls are safe.
      InferenceResult result = server.infer("iris",
          Map.of("x", Tensor.of(features, 1, features.length)));

      System.out.println(result.version() + " " + result.timings());
      return result.requireOutput("y").toFloatArray();
    }
    // README-EXAMPLE-END
  }
}
