package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.api.Timings;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelProcessing;
import dev.modserv.core.VersionPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelYamlTest {
  private static final Path FILE = Path.of("repo", "iris", "model.yaml");

  @Test
  void readsEveryKey() {
    ModelSettings s = ModelYaml.parse(FILE, """
        engine: onnxruntime
        engine-options: {threads: 2}
        version-policy: {latest: 2}
        warmup: false
        warmup-iterations: 3
        drain-grace: 10s
        keep-alive: 5m
        memory: 512MiB
        reject-nan: true
        max-text-bytes: 1MiB
        max-elements: 1000000
        response-cache: true
        embedding-cache: true
        labels: {stable: 1, canary: 2}
        required-for-readiness: false
        batching:
          max-batch-size: 16
          preferred-batch-sizes: [4, 8]
          max-queue-delay: 2ms
          max-queue-size: 100
          priority-levels: 2
          default-timeout: 1s
          instances: 2
          padding: {ids: 0}
          trim-outputs: {logits: 1}
        """);
    ModelConfig c = s.config();
    assertThat(c.backend()).contains("onnxruntime");
    assertThat(s.engineOptions()).isEqualTo(Map.of("threads", "2"));
    assertThat(c.versionPolicy()).isEqualTo(VersionPolicy.latest(2));
    assertThat(c.warmup()).isFalse();
    assertThat(c.warmupIterations()).isEqualTo(3);
    assertThat(c.drainGrace()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.keepAlive()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.memoryBytes()).isEqualTo(512L << 20);
    assertThat(c.rejectNaN()).isTrue();
    assertThat(c.maxTextBytes()).isEqualTo(1L << 20);
    assertThat(c.maxElements()).isEqualTo(1_000_000);
    assertThat(c.responseCache()).isTrue();
    assertThat(c.embeddingCache()).isTrue();
    assertThat(s.labels()).isEqualTo(Map.of("stable", 1L, "canary", 2L));
    assertThat(s.requiredForReadiness()).isFalse();
    assertThat(c.batching().maxBatchSize()).isEqualTo(16);
    assertThat(c.batching().preferredBatchSizes()).containsExactly(4, 8);
    assertThat(c.batching().maxQueueDelay()).isEqualTo(Duration.ofMillis(2));
    assertThat(c.batching().maxQueueSize()).isEqualTo(100);
    assertThat(c.batching().priorityLevels()).isEqualTo(2);
    assertThat(c.batching().defaultTimeout()).contains(Duration.ofSeconds(1));
    assertThat(c.batching().instances()).hasValue(2);
    assertThat(c.batching().padding()).isEqualTo(Map.of("ids", 0.0));
    assertThat(c.batching().trimmedOutputs()).isEqualTo(Map.of("logits", 1));
  }

  @Test
  void inputLimitsDefaultAndRefuseWhatIsNotAPositiveSize() {
    ModelConfig defaults = ModelYaml.parse(FILE, "warmup: true\n").config();
    assertThat(defaults.maxTextBytes()).isEqualTo(ModelConfig.DEFAULT_MAX_TEXT_BYTES);
    assertThat(defaults.maxElements()).isEqualTo(ModelConfig.DEFAULT_MAX_ELEMENTS);
    ModelConfigException e = catchThrowableOfType(ModelConfigException.class,
        () -> ModelYaml.parse(FILE, "max-text-bytes: 0\nmax-elements: many\n"));
    assertThat(e.problems()).containsExactly(
        "max-text-bytes: must be at least 1 byte, got 0",
        "max-elements: expected a whole number >= 1, got \"many\"");
    assertThat(e.getMessage()).contains("model.yaml").contains("max-text-bytes")
        .contains("max-elements");
  }

  @Test
  void processingTakesTheKeysOfARequestAndLabelFilesRelativeToTheModel(@TempDir Path tmp)
      throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("repo/cls"));
    Files.writeString(dir.resolve("labels.txt"), "cat\ndog\n");
    Path file = dir.resolve("model.yaml");
    ModelSettings s = ModelYaml.parse(file, """
        preprocessing: {scale: 0.5, mean: [1, 2], std: [2, 4]}
        postprocessing: {softmax: true, top_k: 2, labels_file: labels.txt}
        """);
    ModelProcessing p = s.config().processing();
    assertThat(p.hasPreprocessing()).isTrue();
    assertThat(p.topK()).isEqualTo(2);
    // Processing applies at once (it is read per request): changing it reloads nothing.
    assertThat(s.servingKey()).doesNotContain("labels.txt");
    // The labels were read, from the model's folder: two labels for two classes.
    InferenceResult ranked = p.postprocess(new InferenceResult("cls", 1,
        Map.of("y", Tensor.of(new float[] {1, 3}, 1, 2)), new Timings(Duration.ZERO,
            Duration.ZERO, Duration.ZERO)));
    assertThat(ranked.outputs().get("y" + ModelProcessing.LABELS_SUFFIX).toStringArray())
        .containsExactly("dog", "cat");
    ModelConfigException e = catchThrowableOfType(ModelConfigException.class,
        () -> ModelYaml.parse(file, "postprocessing: {argmax: true, top_k: 3}\n"));
    assertThat(e.problems()).hasSize(1);
    assertThat(e.problems().get(0)).startsWith("postprocessing");
    ModelConfigException outside = catchThrowableOfType(ModelConfigException.class,
        () -> ModelYaml.parse(file, "postprocessing: {argmax: true, labels_file: ../x.txt}\n"));
    assertThat(outside.problems()).containsExactly("postprocessing.labels_file: '..' is not"
        + " allowed; give a file in the model's folder");
  }

  @Test
  void anEmptyFileOrNoKeysMeansTheDefaults() {
    assertThat(ModelYaml.parse(FILE, "").config().versionPolicy())
        .isEqualTo(VersionPolicy.latest(1));
    assertThat(ModelYaml.parse(FILE, "# nothing\n").requiredForReadiness()).isTrue();
    assertThat(ModelYaml.parse(FILE, "version-policy: all").config().versionPolicy())
        .isEqualTo(VersionPolicy.all());
    assertThat(ModelYaml.parse(FILE, "version-policy: {specific: [1, 3]}").config()
        .versionPolicy()).isEqualTo(VersionPolicy.specific(1, 3));
    assertThat(ModelYaml.parse(FILE, "keep-alive: never").config().keepAlive()).isNegative();
  }

  @Test
  void reportsEveryBadKeyAtOnceOneLineEach() {
    ModelConfigException e = catchThrowableOfType(ModelConfigException.class,
        () -> ModelYaml.parse(FILE, """
            max_batch_size: 8
            version-policy: newest
            drain-grace: 30
            labels: {latest: 1, stable: zero}
            preprocessing: {tokenize: true}
            warmup: yes please
            batching:
              max-batch-size: 0
              max-queue-delay: soon
              colour: blue
            """));
    assertThat(e.code()).isEqualTo(ErrorCode.LOAD_FAILED);
    assertThat(e.problems()).containsExactly(
        "max_batch_size: unknown key; known keys are [batching, drain-grace, embedding-cache, engine, "
            + "engine-options, keep-alive, labels, max-elements, max-text-bytes, memory, "
            + "postprocessing, preprocessing, "
            + "reject-nan, required-for-readiness, response-cache, use-cases, version-policy, "
            + "warmup, warmup-iterations]",
        "version-policy: expected all, latest, {latest: N} or {specific: [versions]}, got "
            + "\"newest\"",
        "drain-grace: expected a duration such as 500ms, 30s or 5m, got 30 (add a unit)",
        "labels.latest: 'latest' is reserved (it always means the highest ready version)",
        "labels.stable: expected a whole number >= 1, got \"zero\"",
        "warmup: expected true or false, got \"yes please\"",
        "batching.max-batch-size: expected a whole number >= 1, got 0",
        "batching.max-queue-delay: expected a duration such as 500ms, 30s, 5m or 1h, got \"soon\"",
        "batching.colour: unknown key; known keys are [default-timeout, instances, max-batch-size,"
            + " max-queue-delay, max-queue-size, padding, preferred-batch-sizes, priority-levels,"
            + " trim-outputs]",
        // Processing is checked as a whole, after the keys: the same checks as a request's.
        "preprocessing.tokenize: unknown preprocessing operation; use scale, normalize,"
            + " standardize (or mean and std), inputs");
    // One line per problem after the heading, each naming the file and the key.
    String[] lines = e.getMessage().split("\n");
    assertThat(lines).hasSize(1 + 10);
    assertThat(lines[0]).contains(FILE.toString()).contains("10 problems");
    for (int i = 1; i < lines.length; i++) {
      assertThat(lines[i]).startsWith(FILE + ": ").isEqualTo(FILE + ": " + e.problems().get(i - 1));
    }
  }

  @Test
  void warmupIterationsIsAWholeNumberOfAtLeastOne() {
    assertThat(ModelYaml.parse(FILE, "warmup-iterations: 5\n").config().warmupIterations())
        .isEqualTo(5);
    assertThat(ModelYaml.parse(FILE, "warmup: true\n").config().warmupIterations()).isEqualTo(1);
    ModelConfigException e = catchThrowableOfType(ModelConfigException.class,
        () -> ModelYaml.parse(FILE, "warmup-iterations: 0\n"));
    assertThat(e.problems()).containsExactly("warmup-iterations: expected a whole number >= 1,"
        + " got 0");
    assertThat(e.getMessage()).contains(FILE + ": warmup-iterations: ");
  }

  @Test
  void crossKeyRulesAndSyntaxErrorsAreReportedToo() {
    assertThat(catchThrowableOfType(ModelConfigException.class, () -> ModelYaml.parse(FILE,
        "batching: {max-batch-size: 4, preferred-batch-sizes: [8]}")).problems())
        .containsExactly("batching: preferred batch size 8 is larger than maxBatchSize 4");
    assertThat(catchThrowableOfType(ModelConfigException.class, () -> ModelYaml.parse(FILE,
        "engine: a\nengine: b\n")).problems()).singleElement().asString()
        .startsWith("not valid YAML: Duplicate field 'engine'");
    assertThat(catchThrowableOfType(ModelConfigException.class, () -> ModelYaml.parse(FILE,
        "- a\n- b\n")).problems()).containsExactly(
        "(top level): expected a mapping of keys, got a list");
  }
}
