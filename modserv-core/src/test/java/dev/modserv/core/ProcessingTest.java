package dev.modserv.core;

import static dev.modserv.core.ModelServerTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.testkit.FakeBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pre- and post-processing on the core request path, per call and configured per model, against
 * values worked out by hand. The fake model answers {@code y = 2x} for {@code x} FP32 [-1, 4].
 */
class ProcessingTest {
  static final double LN2 = Math.log(2);
  static final double LN3 = Math.log(3);
  static final List<String> ANIMALS = List.of("cat", "dog", "bird", "fish");

  @TempDir static Path tmp;
  static ModelServer server;

  @BeforeAll
  static void start() {
    server = ModelServer.builder().backend(FakeBackend.create()).discoverBackends(false).build();
    server.registry().load("iris", 1, Path.of("iris.fake")).join();
    server.registry().configure("cls", ModelConfig.builder()
        .processing(ModelProcessing.builder().scale(0.5).softmax().argmax().labels(ANIMALS).build())
        .build());
    server.registry().load("cls", 1, Path.of("cls.fake")).join();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static InferenceRequest request(String model, float[][] rows) {
    float[] flat = new float[rows.length * rows[0].length];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, flat, r * rows[0].length, rows[0].length);
    }
    return InferenceRequest.builder(model).input("x", Tensor.of(flat, rows.length,
        rows[0].length)).build();
  }

  static Tensor y(ModelProcessing processing, float[]... rows) {
    return server.infer(request("iris", rows), processing).requireOutput("y");
  }

  static Map<String, Object> map(Object... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return m;
  }

  static ModelProcessing pre(Object... keysAndValues) {
    return ModelProcessing.fromMaps(map(keysAndValues), null);
  }

  static ModelProcessing post(Object... keysAndValues) {
    return ModelProcessing.fromMaps(null, map(keysAndValues));
  }

  static void assertElements(float[] actual, double... expected) {
    assertThat(actual).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat((double) actual[i]).as("element %d", i).isCloseTo(expected[i], offset(1e-5));
    }
  }

  static void assertElements(Tensor t, double... expected) {
    assertElements(t.toFloatArray(), expected);
  }

  @Test
  void scaleNormalizeAndStandardize() {
    assertElements(y(pre("scale", 0.5), new float[] {1, 2, 3, 4}), 1, 2, 3, 4);
    // (x - 0) / (10 - 0), doubled
    assertElements(y(pre("normalize", map("min", 0, "max", 10)), new float[] {0, 5, 10, 2.5f}),
        0, 1, 2, 0.5);
    // per channel: (2-1)/1, (4-2)/2, (7-3)/4, (12-4)/8 = 1 each, doubled
    assertElements(y(pre("mean", List.of(1, 2, 3, 4), "std", List.of(1, 2, 4, 8)),
        new float[] {2, 4, 7, 12}), 2, 2, 2, 2);
    // along axis 0 (rows): row 0 minus 1 over 1, row 1 minus 2 over 2
    Tensor byRow = y(pre("standardize", map("mean", List.of(1, 2), "std", List.of(1, 2),
        "axis", 0)), new float[] {2, 3, 4, 5}, new float[] {4, 6, 8, 10});
    assertElements(byRow, 2, 4, 6, 8, 2, 4, 6, 8);
    // In the order given: scale 2 then normalize [1, 4] is (2x - 1) / 3 ...
    assertElements(y(pre("scale", 2, "normalize", map("min", 1, "max", 4)),
        new float[] {1, 2, 4, 0.5f}), 2.0 / 3, 2, 14.0 / 3, 0);
    // ... and normalize then scale is 2 (x - 1) / 3.
    assertElements(y(pre("normalize", map("min", 1, "max", 4), "scale", 2),
        new float[] {1, 2, 4, 0.5f}), 0, 4.0 / 3, 4, -2.0 / 3);
    // the builder gives the same operations
    assertElements(y(ModelProcessing.builder().normalize(1, 4).scale(2).build(),
        new float[] {1, 2, 4, 0.5f}), 0, 4.0 / 3, 4, -2.0 / 3);
  }

  @Test
  void camelCaseNormalizeDividesByScaleThenStandardizesPerChannel() {
    // (x / 255 - mean[c]) / std[c], doubled: x = 255 * (mean + std) gives 2 everywhere
    double[] mean = {0.485, 0.456, 0.406, 0.5};
    double[] std = {0.229, 0.224, 0.225, 0.25};
    float[] x = new float[4];
    for (int c = 0; c < 4; c++) {
      x[c] = (float) (255 * (mean[c] + std[c]));
    }
    ModelProcessing camel = pre("normalize", true, "scale", 255, "mean",
        List.of(0.485, 0.456, 0.406, 0.5), "std", List.of(0.229, 0.224, 0.225, 0.25));
    assertElements(y(camel, x), 2, 2, 2, 2);
    assertElements(y(ModelProcessing.builder().normalize(255, mean, std).build(), x), 2, 2, 2, 2);
    // with scale alone it divides: 255 / 255 * 2
    assertElements(y(pre("normalize", true, "scale", 255), new float[] {255, 0, 510, 127.5f}),
        2, 0, 4, 1);
    // normalize: false leaves the inputs as they are
    assertElements(y(pre("normalize", false, "scale", 255), new float[] {1, 2, 3, 4}), 2, 4, 6, 8);
  }

  @Test
  void softmaxArgmaxThresholdAndTopK() {
    // y = [0, ln 3, 0, 0] and [ln 2, 0, 0, ln 4]: softmax [1, 3, 1, 1] / 6 and [2, 1, 1, 4] / 8.
    float[] a = {0, (float) (LN3 / 2), 0, 0};
    float[] b = {(float) (LN2 / 2), 0, 0, (float) LN2};
    assertElements(y(post("softmax", true), a, b), 1.0 / 6, 0.5, 1.0 / 6, 1.0 / 6, 0.25, 0.125,
        0.125, 0.5);
    Tensor best = y(post("softmax", true, "argmax", true), a, b);
    assertThat(best.dataType()).isEqualTo(DataType.INT64);
    assertThat(best.toLongArray()).containsExactly(1, 3);
    assertThat(best.shape()).containsExactly(2);
    assertThat(y(post("argmax", true, "labels", List.of("a", "b", "c", "d")), a, b)
        .toStringArray()).containsExactly("b", "d");
    Tensor over = y(post("softmax", true, "threshold", 0.2), a, b);
    assertThat(over.toBooleanArray()).containsExactly(false, true, false, false, true, false,
        false, true);
    assertThat(over.shape()).containsExactly(2, 4);

    InferenceResult top = server.infer(request("iris", new float[][] {a, b}),
        ModelProcessing.builder().softmax().topK(2).labels(ANIMALS).build());
    assertThat(top.outputs().keySet()).containsExactly("y", "y.scores", "y.labels");
    assertThat(top.requireOutput("y").toLongArray()).containsExactly(1, 0, 3, 0);
    assertThat(top.requireOutput("y").shape()).containsExactly(2, 2);
    // A tie keeps the lower class first.
    assertElements(top.requireOutput("y" + ModelProcessing.SCORES_SUFFIX), 0.5, 1.0 / 6, 0.5,
        0.25);
    assertThat(top.requireOutput("y" + ModelProcessing.LABELS_SUFFIX).toStringArray())
        .containsExactly("dog", "cat", "fish", "cat");

    // threshold with top_k drops the classes under it: index -1, score NaN
    InferenceResult kept = server.infer(request("iris", new float[][] {a, b}),
        post("softmax", true, "top_k", 3, "threshold", 0.2));
    assertThat(kept.outputs().keySet()).containsExactly("y", "y.scores");
    assertThat(kept.requireOutput("y").toLongArray()).containsExactly(1, -1, -1, 3, 0, -1);
    float[] scores = kept.requireOutput("y.scores").toFloatArray();
    assertThat(scores[1]).isNaN();
    assertThat((double) scores[4]).isCloseTo(0.25, offset(1e-6));
  }

  @Test
  void classificationAnswersTritonStrings() {
    float[] a = {0, (float) (LN3 / 2), 0, 0};
    Tensor plain = y(post("classification", 2), a);
    assertThat(plain.dataType()).isEqualTo(DataType.STRING);
    assertThat(plain.shape()).containsExactly(1, 2);
    // y = [0, ln 3, 0, 0]; the tie between classes 0, 2 and 3 keeps the lowest index
    assertThat(plain.toStringArray()).containsExactly("1.098612:1", "0.000000:0");
    Tensor named = y(ModelProcessing.builder().softmax().classification(3).labels(ANIMALS)
        .build(), a);
    assertThat(named.toStringArray()).containsExactly("0.500000:1:dog", "0.166667:0:cat",
        "0.166667:2:bird");

    // the static form the OIP route calls: integers are written as integers, rank 1 gives [N],
    // and a row holds every element after the batch dimension
    Tensor ints = Tensor.of(new int[] {1, 5, 10, 4}, 4);
    assertThat(ModelProcessing.classify("out", ints, 2, null).toStringArray())
        .containsExactly("10:2", "5:1");
    assertThat(ModelProcessing.classify("out", ints, 9, null).shape()).containsExactly(4);
    Tensor batch = Tensor.of(new double[] {-0.25, 0.125, 2, 1, 0.0000005, -3}, 2, 1, 3);
    Tensor both = ModelProcessing.classify("out", batch, 1, List.of("x", "y", "z"));
    assertThat(both.shape()).containsExactly(2, 1);
    assertThat(both.toStringArray()).containsExactly("2.000000:2:z", "1.000000:0:x");
    assertThat(ModelProcessing.classify("out", Tensor.of(new double[] {0.0000005, -0.0000001,
        0.0000015}, 3), 3, null).toStringArray())
        .containsExactly("0.000002:2", "0.000000:0", "-0.000000:1");
  }

  @Test
  void modelConfigurationAppliesUnlessTheCallBringsItsOwn() {
    // configured: scale 0.5, softmax, argmax with labels; y = x, so the largest input wins
    InferenceResult configured = server.infer(request("cls", new float[][] {{1, 5, 2, 0},
        {9, 1, 1, 1}}));
    assertThat(configured.requireOutput("y").toStringArray()).containsExactly("dog", "cat");
    assertThat(server.infer("cls", Map.of("x", Tensor.of(new float[] {0, 0, 3, 0}, 1, 4)))
        .requireOutput("y").toStringArray()).containsExactly("bird");
    // the call's preprocessing {} turns the configured scale off; its postprocessing replaces
    InferenceResult own = server.infer(request("cls", new float[][] {{1, 5, 2, 0}}),
        ModelProcessing.fromMaps(Map.of(), map("top_k", 1)));
    assertThat(own.requireOutput("y").toLongArray()).containsExactly(1);
    assertThat(own.requireOutput("y.scores").toFloatArray()).containsExactly(10f);
    // only the call's preprocessing: the configured postprocessing stays
    assertThat(server.infer(request("cls", new float[][] {{1, 5, 2, 0}}), pre("scale", -1))
        .requireOutput("y").toStringArray()).containsExactly("fish");
    // none() turns both off
    assertElements(server.infer(request("cls", new float[][] {{1, 2, 3, 4}}),
        ModelProcessing.none()).requireOutput("y"), 2, 4, 6, 8);
    // the async path processes as well
    assertThat(server.inferAsync(request("cls", new float[][] {{0, 0, 0, 1}})).join()
        .requireOutput("y").toStringArray()).containsExactly("fish");
  }

  @Test
  void timingsReportPreAndPostProcessing() {
    InferenceResult plain = server.infer(request("iris", new float[][] {{1, 2, 3, 4}}));
    assertThat(plain.timings().preprocessing()).isZero();
    assertThat(plain.timings().postprocessing()).isZero();
    InferenceResult processed = server.infer(request("iris", new float[][] {{1, 2, 3, 4}}),
        ModelProcessing.builder().scale(1).softmax().build());
    assertThat(processed.timings().preprocessing()).isPositive();
    assertThat(processed.timings().postprocessing()).isPositive();
    assertThat(processed.timings().total()).isGreaterThanOrEqualTo(
        processed.timings().inference().plus(processed.timings().postprocessing()));
  }

  @Test
  void aLabelsFileIsReadThroughTheCallersResolver() throws Exception {
    Files.writeString(tmp.resolve("labels.txt"), "cat\ndog\nbird\nfish\n\n");
    ModelProcessing p = ModelProcessing.fromMaps(null, map("argmax", true, "labels_file",
        "labels.txt"), tmp::resolve);
    assertThat(y(p, new float[] {1, 4, 3, 2}).toStringArray()).containsExactly("dog");
    assertThatThrownBy(() -> ModelProcessing.fromMaps(null, map("argmax", true, "labels_file",
        "labels.txt")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("postprocessing.labels_file: labels files are not read here");
    assertThatThrownBy(() -> ModelProcessing.fromMaps(null, map("argmax", true, "labels_file",
        "../secret.txt"), f -> {
          throw new IllegalArgumentException(f + " is outside the model root");
        }))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("postprocessing.labels_file: ../secret.txt is outside the model root");
    assertThatThrownBy(() -> ModelProcessing.fromMaps(null, map("argmax", true, "labels_file",
        "missing.txt"), tmp::resolve))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("postprocessing.labels_file: cannot read the labels file"
            + " missing.txt");
    assertThat(y(ModelProcessing.builder().argmax().labelsFile(tmp.resolve("labels.txt")).build(),
        new float[] {9, 4, 3, 2}).toStringArray()).containsExactly("cat");
  }

  @Test
  void configurationErrorsNameTheKey() {
    assertBadKey(() -> pre("rotate", 90), "preprocessing.rotate: unknown preprocessing operation");
    assertBadKey(() -> post("sigmoid", true),
        "postprocessing.sigmoid: unknown postprocessing operation");
    assertBadKey(() -> pre("normalize", map("min", 3, "max", 3)),
        "preprocessing.normalize: max must be greater than min");
    assertBadKey(() -> pre("normalize", true), "preprocessing.normalize: expected");
    assertBadKey(() -> pre("normalize", "yes"), "preprocessing.normalize: expected");
    assertBadKey(() -> pre("normalize", true, "scale", 0),
        "preprocessing.scale: with normalize: true the inputs are divided by scale");
    assertBadKey(() -> pre("normalize", true, "scale", 255, "standardize", map()),
        "preprocessing.standardize: does not go with normalize");
    assertBadKey(() -> pre("scale", "2"), "preprocessing.scale: expected a finite number, got \"2\"");
    assertBadKey(() -> pre("standardize", map("mean", List.of(1), "std", List.of(0))),
        "preprocessing.standardize: std values must be > 0");
    assertBadKey(() -> pre("standardize", map("mean", 1, "axis", 1.5)),
        "preprocessing.standardize.axis: expected an integer");
    assertBadKey(() -> pre("standardize", map("median", 1)),
        "preprocessing.standardize.median: unknown field");
    assertBadKey(() -> pre("inputs", List.of()), "preprocessing.inputs: expected a non-empty");
    assertBadKey(() -> post("top_k", 0), "postprocessing.top_k: expected an integer >= 1, got 0");
    assertBadKey(() -> post("top_k", 2.0), "postprocessing.top_k: expected an integer >= 1");
    assertBadKey(() -> post("classification", -1),
        "postprocessing.classification: expected an integer >= 1");
    assertBadKey(() -> post("softmax", "yes"), "postprocessing.softmax: expected true or false");
    assertBadKey(() -> post("argmax", true, "top_k", 2), "postprocessing: give argmax or top_k,"
        + " not both");
    assertBadKey(() -> post("top_k", 2, "classification", 2),
        "postprocessing: give one of argmax, top_k and classification");
    assertBadKey(() -> post("argmax", true, "threshold", 0.5),
        "postprocessing: threshold goes alone or with top_k");
    assertBadKey(() -> post("labels", List.of("a")), "postprocessing: labels name the classes");
    assertBadKey(() -> post("labels", List.of("a", 1)),
        "postprocessing.labels[1]: expected a string, got 1");
  }

  static void assertBadKey(Runnable parse, String start) {
    assertThatThrownBy(parse::run).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(start);
  }

  @Test
  void requestErrorsAreInvalidInputNamingTheField() {
    assertCode(() -> y(pre("mean", List.of(1, 2, 3)), new float[] {1, 2, 3, 4}),
        ErrorCode.INVALID_INPUT, "preprocessing: standardize has 3 channel values but input 'x'"
        + " has 4 channels along axis 1 of [1, 4]");
    assertCode(() -> y(pre("standardize", map("mean", 1, "axis", 2)), new float[] {1, 2, 3, 4}),
        ErrorCode.INVALID_INPUT, "preprocessing: standardize axis 2 is outside input 'x'");
    assertCode(() -> y(post("argmax", true, "labels", List.of("a", "b")),
        new float[] {1, 2, 3, 4}), ErrorCode.INVALID_INPUT,
        "postprocessing.labels: has 2 labels but output 'y' has 4 classes");
    assertCode(() -> y(post("classification", 1, "labels", List.of("a")),
        new float[] {1, 2, 3, 4}), ErrorCode.INVALID_INPUT,
        "postprocessing.labels: has 1 labels but output 'y' has 4 classes");
    // the async form fails its future with the same code
    assertThat(server.inferAsync(request("iris", new float[][] {{1, 2, 3, 4}}),
        pre("mean", List.of(1, 2))))
        .failsWithin(10, TimeUnit.SECONDS).withThrowableThat()
        .satisfies(t -> assertThat(ModelServingException.codeOf(t)).contains(
            ErrorCode.INVALID_INPUT));
    // a named input or output that processing cannot change
    Tensor ints = Tensor.of(new long[] {1, 2, 3, 4}, 1, 4);
    assertCode(() -> ModelProcessing.builder().scale(2).inputs("ids").build().preprocess(
        InferenceRequest.builder("iris").input("ids", ints).build()), ErrorCode.INVALID_INPUT,
        "preprocessing.inputs: input 'ids' is INT64");
    InferenceResult result = new InferenceResult("m", 1, Map.of("ids", ints),
        new dev.modserv.api.Timings(java.time.Duration.ZERO, java.time.Duration.ZERO,
            java.time.Duration.ZERO));
    assertCode(() -> ModelProcessing.builder().softmax().outputs("ids").build().postprocess(
        result), ErrorCode.INVALID_INPUT, "postprocessing.outputs: output 'ids' is INT64");
    // unnamed, other types pass through
    assertThat(ModelProcessing.builder().softmax().build().postprocess(result)
        .requireOutput("ids")).isSameAs(ints);
    assertCode(() -> ModelProcessing.classify("flag", Tensor.of(new boolean[] {true}, 1), 1,
        null), ErrorCode.INVALID_INPUT, "classification: output 'flag' is BOOL");
    assertCode(() -> ModelProcessing.classify("s", Tensor.of(new float[] {1}), 1, null),
        ErrorCode.INVALID_INPUT, "classification: output 's' is a scalar");
    // top-k may not hide an output of the result
    InferenceResult crowded = new InferenceResult("m", 1, Map.of("p",
        Tensor.of(new float[] {1, 2}, 1, 2), "p.scores", Tensor.of(new float[] {1}, 1)),
        result.timings());
    assertCode(() -> ModelProcessing.builder().topK(1).build().postprocess(crowded),
        ErrorCode.INVALID_INPUT, "postprocessing.top_k: output 'p' needs the names 'p.scores'");
  }

  @Test
  void builderRefusesOptionsThatDoNotGoTogether() {
    assertThatThrownBy(() -> ModelProcessing.builder().argmax().topK(2).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("argmax or top_k");
    assertThatThrownBy(() -> ModelProcessing.builder().labels(List.of("a")).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("labels");
    assertThatThrownBy(() -> ModelProcessing.builder().argmax()
        .labelsFile(tmp.resolve("missing.txt")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot read the labels file missing.txt");
    assertThatThrownBy(() -> ModelProcessing.builder().softmax().softmax())
        .isInstanceOf(IllegalStateException.class).hasMessage("softmax was already set");
    assertThatThrownBy(() -> ModelProcessing.builder().normalize(1, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ModelProcessing.builder()
        .standardize(new double[] {1}, new double[] {0}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("std");
    assertThatThrownBy(() -> ModelProcessing.builder().normalize(0, new double[] {0},
        new double[] {1})).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0");
    assertThatThrownBy(() -> ModelConfig.builder().processing(ModelProcessing.none())
        .processing(ModelProcessing.none())).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void partsGivenReplaceTheFallbacksParts() {
    ModelProcessing model = ModelProcessing.builder().scale(2).softmax().build();
    ModelProcessing onlyPre = pre("scale", 3);
    assertThat(onlyPre.hasPreprocessing()).isTrue();
    assertThat(onlyPre.hasPostprocessing()).isFalse();
    ModelProcessing merged = onlyPre.orElse(model);
    assertThat(merged.hasPostprocessing()).isTrue();
    assertElements(y(merged, new float[] {0, 0, 0, 0}), 0.25, 0.25, 0.25, 0.25);
    assertThat(ModelProcessing.none().orElse(model).isEmpty()).isTrue();
    assertThat(ModelConfig.defaults().processing().isEmpty()).isTrue();
  }
}
