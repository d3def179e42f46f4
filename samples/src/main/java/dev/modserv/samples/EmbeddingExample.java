package dev.modserv.samples;

import dev.modserv.core.ModelServer;
import dev.modserv.onnx.AllMiniLmL6V2;
import java.nio.file.Path;
import java.util.List;

/**
 * The README's example: embed a model server, load a model every reader has (all-MiniLM-L6-v2,
 * from its Maven artifact), call it.
 *
 * <pre>
 * java -cp ... dev.modserv.samples.EmbeddingExample "A man is eating food." "A man is eating pasta."
 * </pre>
 */
public final class EmbeddingExample {
  private EmbeddingExample() {}

  /** Embeds {@code texts}; the model is copied into {@code cacheDir} on first use. */
  public static float[][] embed(Path cacheDir, List<String> texts) {
    // README-EXAMPLE-START
    // all-MiniLM-L6-v2, copied out of its Maven artifact into cacheDir on first use.
    Path minilm = AllMiniLmL6V2.extract(cacheDir);

    try (ModelServer server = ModelServer.builder().build()) {  // modserv-onnx: on the class path
      // Load version 1; it warms up before it serves.
      server.registry().load("minilm", 1, minilm).join();

      // Call it from any thread; concurrent calls are safe (and batched together).
      float[][] vectors = server.embed("minilm", texts);

      System.out.println(vectors.length + " vectors of " + vectors[0].length + " floats");
      return vectors;
    }
    // README-EXAMPLE-END
  }

  /** Prints how many vectors the texts in {@code args} became; the model is cached under tmp. */
  public static void main(String[] args) {
    List<String> texts = args.length > 0 ? List.of(args) : List.of("hello world");
    embed(Path.of(System.getProperty("java.io.tmpdir"), "modserv-example"), texts);
  }
}
