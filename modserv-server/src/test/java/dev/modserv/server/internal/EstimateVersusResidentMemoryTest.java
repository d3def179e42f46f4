package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.core.MemoryEstimate;
import dev.modserv.core.ModelServer;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.ResidentMemory;
import dev.modserv.testkit.SlowOnnxModel;
import dev.modserv.testkit.TinyLlama;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * The node fit estimate of a small generated GGUF and SavedModel against the resident memory
 * measured after loading it in a fresh JVM (plus, for llama, its worker process): within 25%, as
 * {@code docs/node-fit.md} states (its table comes from {@code FitMemoryBench}). The child gets its
 * class path through an argument file: ONNX Runtime crashes a JVM whose command line is longer than
 * about 4 KB (docs/onnx.md).
 */
class EstimateVersusResidentMemoryTest {
  @TempDir Path dir;

  @Test
  void estimatesOfEachEngineAreWithinAQuarterOfTheMeasuredResidentMemory() throws Exception {
    Path gguf = TinyLlama.builder().width(256).layers(4).type("F16").build()
        .write(dir.resolve("tiny.gguf"));
    Path savedModel = savedModel(dir.resolve("graph"), 1024);
    Path onnx = SlowOnnxModel.write(dir.resolve("matmul.onnx"), 2048, 1);
    for (Path model : new Path[] {gguf, savedModel, onnx}) {
      String[] result = measureInChild(model);
      long estimate = Long.parseLong(result[1]);
      long measured = Long.parseLong(result[2]);
      assertThat((double) estimate / measured).as("%s (%s): estimate %d, measured %d", model
          .getFileName(), result[0], estimate, measured).isBetween(0.75, 1.25);
    }
  }

  /** A SavedModel multiplying {@code x [-1, width]} by a {@code width × width} variable. */
  static Path savedModel(Path dir, int width) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x =
          tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, width)));
      Operand<TFloat32> w = tf.withName("w").variable(tf.fill(tf.constant(new long[] {width,
          width}), tf.constant(1f / width)));
      Operand<TFloat32> y = tf.withName("y").linalg.matMul(x, w);
      SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(
          Signature.builder().key("serving_default").input("x", x).output("y", y).build(), s))
          .export();
    }
    return dir;
  }

  /** Runs {@link #main} in a fresh JVM on {@code model}: engine, estimate, measured. */
  static String[] measureInChild(Path model) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path argFile = Files.createTempFile("estimate-child", ".args");
    Files.writeString(argFile, "-cp \"" + System.getProperty("java.class.path")
        .replace("\\", "\\\\") + "\"\n");
    Process p = new ProcessBuilder(java, "-Xms128m", "-Xmx128m", "-XX:+AlwaysPreTouch",
        "@" + argFile, EstimateVersusResidentMemoryTest.class.getName(), model.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    Files.delete(argFile);
    assertThat(p.exitValue()).as("exit %d: %s", p.exitValue(), out).isZero();
    return out.lines().filter(l -> l.startsWith("MEASURED ")).findFirst().orElseThrow()
        .substring(9).split(" ");
  }

  /**
   * In the child: the estimate (with the engine's runtime, which a fresh process loads), then the
   * resident memory the load added, with any worker process.
   */
  public static void main(String[] args) throws Exception {
    Path model = Path.of(args[0]);
    try (ModelServer server = ModelServer.builder().build()) {
      MemoryEstimate e = server.estimateMemory("m", ModelSource.of(model), 0).orElseThrow();
      long added = ResidentMemory.addedBy(() -> server.registry().load("m", 1, model).join(),
          Duration.ofMillis(300));
      System.out.println("MEASURED " + e.engine() + " " + (e.modelBytes()
          + e.engineRuntimeBytes()) + " " + added);
    }
  }
}
