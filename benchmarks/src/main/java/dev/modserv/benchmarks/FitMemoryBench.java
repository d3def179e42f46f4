package dev.modserv.benchmarks;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
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
 * The node fit report's memory estimates against the resident memory measured after loading
 * ({@code docs/node-fit.md}): generates GGUF (several sizes and types), ONNX and TensorFlow models,
 * loads each in a fresh child JVM (fixed, pre-touched heap, so the heap does not grow under the
 * measurement) and compares the engine's estimate, made from the files before loading, with the
 * child's resident memory growth across the load plus, for llama, the whole worker process.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.modserv.benchmarks.FitMemoryBench [DIR]
 * </pre>
 *
 * Prints a TSV line per model: name, engine, type, artifact bytes, estimate bytes, measured
 * bytes, error (estimate over measured, less 1).
 */
public final class FitMemoryBench {
  private FitMemoryBench() {}

  /** A generated model: its name, engine, type and where it is. */
  record Generated(String name, String type, Path path) {}

  public static void main(String[] args) throws Exception {
    if (args.length == 3 && args[0].equals("--measure")) {
      measure(args[1], Path.of(args[2]));
      return;
    }
    Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("modserv-fit");
    List<Generated> models = generate(dir);
    System.out.println("model\tengine\ttype\tartifact_bytes\testimate_bytes\tmeasured_bytes"
        + "\terror");
    for (Generated g : models) {
      System.out.println(run(g));
    }
  }

  /** The models the tests generate, at a few sizes and types. */
  static List<Generated> generate(Path dir) throws IOException {
    List<Generated> out = new ArrayList<>();
    Files.createDirectories(dir);
    int[][] llamas = {{64, 2}, {256, 4}, {512, 8}, {512, 8}, {1024, 8}, {1024, 8}};
    String[] types = {"F32", "F32", "F16", "Q8_0", "Q8_0", "F16"};
    for (int i = 0; i < llamas.length; i++) {
      String name = "llama-w" + llamas[i][0] + "-l" + llamas[i][1] + "-" + types[i].toLowerCase(
          Locale.ROOT).replace("_", "");
      Path file = TinyLlama.builder().width(llamas[i][0]).layers(llamas[i][1]).type(types[i])
          .build().write(dir.resolve(name + ".gguf"));
      out.add(new Generated(name, types[i], file));
    }
    for (int width : new int[] {64, 1024, 2048, 4096}) {
      String name = "onnx-matmul-" + width;
      out.add(new Generated(name, "FP32", SlowOnnxModel.write(dir.resolve(name + ".onnx"),
          width, 1)));
    }
    for (int width : new int[] {64, 1024, 2048, 4096}) {
      String name = "tf-matmul-" + width;
      out.add(new Generated(name, "FP32", savedModel(dir.resolve(name), width)));
    }
    return out;
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
      Signature serving = Signature.builder().key("serving_default").input("x", x)
          .output("y", y).build();
      SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(serving, s))
          .export();
    }
    return dir;
  }

  /** Loads {@code g} in a child JVM and returns its TSV line. */
  static String run(Generated g) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p = new ProcessBuilder(java, "-Xms128m", "-Xmx128m", "-XX:+AlwaysPreTouch",
        "-cp", System.getProperty("java.class.path"), FitMemoryBench.class.getName(),
        "--measure", g.name(), g.path().toString()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      return g.name() + "\tfailed\t" + output.replace('\n', ' ');
    }
    String result = output.lines().filter(l -> l.startsWith("RESULT\t")).findFirst()
        .orElseThrow(() -> new IllegalStateException(g.name() + ": " + output));
    String[] f = result.split("\t");
    long artifact = Long.parseLong(f[2]);
    long estimate = Long.parseLong(f[3]);
    long measured = Long.parseLong(f[4]);
    return String.join("\t", g.name(), f[1], g.type(), Long.toString(artifact),
        Long.toString(estimate), Long.toString(measured),
        String.format(Locale.ROOT, "%+.1f%%", 100.0 * estimate / measured - 100));
  }

  /** In the child: the estimate, then the resident memory across the load. */
  static void measure(String name, Path model) throws Exception {
    try (ModelServer server = ModelServer.builder().build()) {
      ModelSource source = ModelSource.of(model);
      MemoryEstimate e = server.estimateMemory(name, source, 0).orElseThrow();
      Thread.sleep(200);
      long added = ResidentMemory.addedBy(() -> server.registry().load(name, 1, source).join(),
          Duration.ofMillis(500));
      long artifact = Files.isDirectory(model) ? dirBytes(model) : Files.size(model);
      // A fresh process: the engine's once-per-process runtime is part of what the load added.
      System.out.println("RESULT\t" + e.engine() + "\t" + artifact + "\t"
          + (e.modelBytes() + e.engineRuntimeBytes()) + "\t" + added);
    }
  }

  static long dirBytes(Path dir) throws IOException {
    try (var files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    }
  }
}
