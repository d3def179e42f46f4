package dev.modserv.tensorflow;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

/**
 * SavedModels built by this test code, once per test JVM, in a temporary folder, with their known
 * weights so that tests compute the answers in plain Java.
 */
final class TestSavedModels {
  /** Softmax regression weights: 4 features, 3 classes. */
  static final float[][] W = {
    {0.5f, -1.0f, 0.25f},
    {-0.75f, 0.5f, 1.0f},
    {1.5f, 0.0f, -0.5f},
    {0.1f, 0.2f, 0.3f},
  };

  static final float[] B = {0.1f, -0.2f, 0.05f};

  /** The greeting the STRING model puts before its input. */
  static final String GREETING = "hello, ";

  private static final Path ROOT;

  static {
    try {
      ROOT = Files.createTempDirectory("modserv-tf-models");
      softmax(ROOT.resolve("softmax"));
      multi(ROOT.resolve("multi"));
      strings(ROOT.resolve("strings"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private TestSavedModels() {}

  /** Softmax regression: {@code x} FP32 [-1,4] to {@code probs} FP32 [-1,3]; signature {@code logits} gives {@code logits}. */
  static Path softmax() {
    return ROOT.resolve("softmax");
  }

  /** Several named inputs and outputs of FP64, INT64, BOOL, UINT8 and INT32; see {@link #multi(Path)}. */
  static Path multi() {
    return ROOT.resolve("multi");
  }

  /** {@code text} STRING [-1] to {@code greeting} STRING and {@code length} INT32. */
  static Path strings() {
    return ROOT.resolve("strings");
  }

  /** Builds the softmax regression with its weights in variables, and two signatures. */
  static void softmax(Path dir) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x =
          tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      Operand<TFloat32> w = tf.withName("w").variable(tf.constant(W));
      Operand<TFloat32> b = tf.withName("b").variable(tf.constant(B));
      Operand<TFloat32> logits = tf.withName("logits").math.add(tf.linalg.matMul(x, w), b);
      Operand<TFloat32> probs = tf.withName("probs").nn.softmax(logits);
      Signature serving = Signature.builder().key("serving_default")
          .input("x", x).output("probs", probs).build();
      Signature raw = Signature.builder().key("logits")
          .input("x", x).output("logits", logits).build();
      SavedModelBundle.exporter(dir.toString())
          .withFunction(SessionFunction.create(serving, s))
          .withFunction(SessionFunction.create(raw, s))
          .export();
    }
  }

  /**
   * Inputs {@code a} FP64 [-1,2], {@code b} INT64 [-1,2], {@code flags} BOOL [-1,2], {@code pixels}
   * UINT8 [-1,3], {@code ids} INT32 [-1]; outputs {@code sum} = a + b (FP64), {@code square} = b * b
   * (INT64), {@code negated} = !flags, {@code brightness} = the row sums of pixels (INT32), {@code
   * next} = ids + 1 (INT32), {@code doubled} = pixels + pixels (UINT8, wrapping).
   */
  static void multi(Path dir) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat64> a =
          tf.withName("a").placeholder(TFloat64.class, Placeholder.shape(Shape.of(-1, 2)));
      Placeholder<TInt64> b =
          tf.withName("b").placeholder(TInt64.class, Placeholder.shape(Shape.of(-1, 2)));
      Placeholder<TBool> flags =
          tf.withName("flags").placeholder(TBool.class, Placeholder.shape(Shape.of(-1, 2)));
      Placeholder<TUint8> pixels =
          tf.withName("pixels").placeholder(TUint8.class, Placeholder.shape(Shape.of(-1, 3)));
      Placeholder<TInt32> ids =
          tf.withName("ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TFloat64> sum = tf.math.add(a, tf.dtypes.cast(b, TFloat64.class));
      Operand<TInt64> square = tf.math.mul(b, b);
      Operand<TBool> negated = tf.math.logicalNot(flags);
      Operand<TInt32> brightness =
          tf.sum(tf.dtypes.cast(pixels, TInt32.class), tf.constant(1));
      Operand<TInt32> next = tf.math.add(ids, tf.constant(1));
      Operand<TUint8> doubled = tf.math.add(pixels, pixels);
      Signature sig = Signature.builder().key("serving_default")
          .input("a", a).input("b", b).input("flags", flags).input("pixels", pixels)
          .input("ids", ids)
          .output("sum", sum).output("square", square).output("negated", negated)
          .output("brightness", brightness).output("next", next).output("doubled", doubled)
          .build();
      SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(sig, s))
          .export();
    }
  }

  /** {@code text} STRING [-1] to {@code greeting} = GREETING + text and {@code length} in bytes. */
  static void strings(Path dir) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TString> text =
          tf.withName("text").placeholder(TString.class, Placeholder.shape(Shape.of(-1)));
      Operand<TString> greeting = tf.strings.join(List.of(tf.constant(GREETING), text));
      Operand<TInt32> length = tf.strings.stringLength(text);
      Signature sig = Signature.builder().key("serving_default")
          .input("text", text).output("greeting", greeting).output("length", length).build();
      SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(sig, s))
          .export();
    }
  }

  /** Softmax regression in plain Java, for the known answers. */
  static float[] softmaxRow(float[] x) {
    double[] logits = new double[3];
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < 3; j++) {
      double z = B[j];
      for (int i = 0; i < 4; i++) {
        z += (double) x[i] * W[i][j];
      }
      logits[j] = z;
      max = Math.max(max, z);
    }
    double total = 0;
    for (int j = 0; j < 3; j++) {
      logits[j] = Math.exp(logits[j] - max);
      total += logits[j];
    }
    float[] out = new float[3];
    for (int j = 0; j < 3; j++) {
      out[j] = (float) (logits[j] / total);
    }
    return out;
  }
}
