package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A repository with two models of two versions each (the ONNX tests' MLP), polled every 100 ms
 * while four threads call both models: a version folder written slowly is not loaded until it is
 * complete, a new version loads, a removed one drains and unloads, a changed model.yaml reloads,
 * a broken one is reported key by key and changes nothing, and no request fails throughout.
 */
class RepositoryTest {
  static final Path MODELS = Path.of(System.getProperty("modserv.onnx.models",
      "../modserv-onnx/src/test/resources/models"));
  static final float[] X = {0.5f, -1.0f, 2.0f, 0.25f};
  static final float[] Y = {0.9723424f, 0.14270413f, 0.3948334f};
  static final Duration POLL = Duration.ofMillis(100);

  @TempDir Path root;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    Collections.reverse(open);
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  static void version(Path root, String model, long v) throws IOException {
    Path dir = Files.createDirectories(root.resolve(model).resolve(Long.toString(v)));
    Files.copy(MODELS.resolve("mlp.onnx"), dir.resolve("model.onnx"));
  }

  @Test
  void pollingAddsAndRemovesVersionsUnderLoadWithNoFailedRequest() throws Exception {
    version(root, "a", 1);
    version(root, "a", 2);
    Files.writeString(root.resolve("a/model.yaml"), "version-policy: all\n");
    version(root, "b", 1);
    version(root, "b", 2);
    Files.writeString(root.resolve("b/model.yaml"),
        "version-policy: {latest: 2}\nlabels: {stable: 1}\n");

    ModelServer server = ModelServer.builder().build();
    open.add(server);
    Repository repo = new Repository(root, server.registry(), new Progress(1L << 40, l -> { }),
        POLL);
    open.add(repo);
    assertThat(repo.plan()).containsExactly("a", "b");
    repo.start();
    assertThat(states(server, "a")).isEqualTo(Map.of(1L, ModelState.READY, 2L, ModelState.READY));
    assertThat(states(server, "b")).isEqualTo(Map.of(1L, ModelState.READY, 2L, ModelState.READY));
    assertThat(server.registry().status("b", 1).orElseThrow().labels()).containsExactly("stable");

    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong ok = new AtomicLong();
    List<String> failures = Collections.synchronizedList(new ArrayList<>());
    List<Thread> callers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      String model = i % 2 == 0 ? "a" : "b";
      Thread t = Thread.ofPlatform().start(() -> {
        while (running.get()) {
          try {
            InferenceResult r = server.infer(model, Map.of("x", Tensor.of(X, 1, 4)));
            float[] y = r.requireOutput("y").toFloatArray();
            if (Math.abs(y[0] - Y[0]) > 1e-4 || Math.abs(y[2] - Y[2]) > 1e-4) {
              failures.add(model + ": wrong answer " + java.util.Arrays.toString(y));
            }
            ok.incrementAndGet();
          } catch (RuntimeException e) {
            failures.add(model + ": " + e);
          }
        }
      });
      callers.add(t);
    }
    try {
      // A version folder still being written (a byte every 20 ms, i.e. changing at every poll)
      // is not loaded half-way.
      Path three = Files.createDirectories(root.resolve("a/3"));
      byte[] mlp = Files.readAllBytes(MODELS.resolve("mlp.onnx"));
      try (OutputStream out = Files.newOutputStream(three.resolve("model.onnx"))) {
        long until = System.nanoTime() + Duration.ofMillis(800).toNanos();
        int written = 0;
        while (System.nanoTime() < until || written < 20) {
          out.write(mlp[written++]);
          out.flush();
          Thread.sleep(20);
          assertThat(server.registry().status("a", 3)).as("a v3 while it is written").isEmpty();
        }
        out.write(mlp, written, mlp.length - written);
      }
      awaitState(server, "a", 3, ModelState.READY);

      // A removed version folder drains and unloads; the others serve on.
      deleteTree(root.resolve("a/1"));
      await("a v1 unloaded", () -> server.registry().status("a", 1).isEmpty());
      assertThat(states(server, "a")).isEqualTo(Map.of(2L, ModelState.READY, 3L, ModelState.READY));

      // A new version of b (policy latest 2): v3 loads; v1 stays, the label 'stable' holds it.
      version(root, "b", 3);
      awaitState(server, "b", 3, ModelState.READY);
      assertThat(states(server, "b")).isEqualTo(
          Map.of(1L, ModelState.READY, 2L, ModelState.READY, 3L, ModelState.READY));

      // A changed model.yaml reloads b's versions one by one with the new settings; the label
      // moves to v2, so v1 is no longer wanted and unloads.
      Files.writeString(root.resolve("b/model.yaml"),
          "version-policy: {latest: 2}\nbatching: {max-batch-size: 8}\nlabels: {stable: 2}\n");
      await("b reloaded with max-batch-size 8", () ->
          server.registry().config("b").batching().maxBatchSize() == 8
              && server.registry().status("b", 2).map(s -> s.labels().contains("stable"))
                  .orElse(false)
              && states(server, "b").equals(Map.of(2L, ModelState.READY, 3L, ModelState.READY)));

      // A change of labels alone moves them without reloading anything.
      java.time.Instant v2Loaded = server.registry().status("b", 2).orElseThrow().loadedAt()
          .orElseThrow();
      Files.writeString(root.resolve("b/model.yaml"),
          "version-policy: {latest: 2}\nbatching: {max-batch-size: 8}\nlabels: {stable: 3}\n");
      await("b's label stable on v3", () -> server.registry().status("b", 3)
          .map(s -> s.labels().contains("stable")).orElse(false));
      assertThat(server.registry().status("b", 2).orElseThrow().loadedAt()).contains(v2Loaded);
      assertThat(server.registry().status("b", 2).orElseThrow().labels()).isEmpty();

      // A broken model.yaml is reported key by key and leaves a as it is.
      Files.writeString(root.resolve("a/model.yaml"), "version-policy: newest\nwarmup: 3\n");
      await("a's model.yaml problems", () -> repo.problems().containsKey("a"));
      assertThat(repo.problems().get("a")).hasSize(2);
      assertThat(states(server, "a")).isEqualTo(Map.of(2L, ModelState.READY, 3L, ModelState.READY));
      Thread.sleep(300);
    } finally {
      running.set(false);
      for (Thread t : callers) {
        t.join();
      }
    }
    assertThat(failures).isEmpty();
    assertThat(ok.get()).isGreaterThan(100);
  }

  @Test
  void aModelThatFailsToLoadIsFailedWithItsCauseWhileTheOthersServe() throws Exception {
    version(root, "good", 1);
    Path broken = Files.createDirectories(root.resolve("broken/1"));
    Files.writeString(broken.resolve("model.onnx"), "not an onnx model");
    version(root, "badyaml", 1);
    Files.writeString(root.resolve("badyaml/model.yaml"), """
        batching: {max-batch-size: -1}
        labels: {latest: 1}
        shape: [1, 2]
        """);
    Files.writeString(root.resolve("README.txt"), "not a model");
    version(root, "wrongengine", 1);
    Files.writeString(root.resolve("wrongengine/model.yaml"), "engine: tensorflow\n");

    ModelServer server = ModelServer.builder().build();
    open.add(server);
    Repository repo = new Repository(root, server.registry(), new Progress(1L << 40, l -> { }),
        Duration.ZERO);
    open.add(repo);
    assertThat(repo.plan()).containsExactly("broken", "good", "wrongengine");
    repo.start();

    assertThat(server.registry().status("good", 1).orElseThrow().state())
        .isEqualTo(ModelState.READY);
    ModelStatus failed = server.registry().status("broken", 1).orElseThrow();
    assertThat(failed.state()).isEqualTo(ModelState.FAILED);
    assertThat(failed.failure()).isPresent();
    assertThat(server.registry().versions("badyaml")).isEmpty();
    // model.yaml's engine is the one that loads it: TensorFlow does not take a .onnx file.
    ModelStatus wrong = server.registry().status("wrongengine", 1).orElseThrow();
    assertThat(wrong.state()).isEqualTo(ModelState.FAILED);
    assertThat(wrong.failure().orElseThrow()).contains("is not a SavedModel folder");
    assertThat(repo.problems().get("badyaml")).hasSize(3);
    assertThat(server.infer("good", Map.of("x", Tensor.of(X, 1, 4))).requireOutput("y")
        .toFloatArray()[0]).isCloseTo(Y[0], org.assertj.core.data.Offset.offset(1e-4f));
  }

  @Test
  void aVersionFolderWithOneEntryServesThatEntry() throws IOException {
    Path one = Files.createDirectories(root.resolve("m/1"));
    Files.writeString(one.resolve("model.onnx"), "x");
    assertThat(Repository.artifact(one)).isEqualTo(one.resolve("model.onnx"));
    Path saved = Files.createDirectories(root.resolve("t/1/model.savedmodel"));
    assertThat(Repository.artifact(root.resolve("t/1"))).isEqualTo(saved);
    Files.writeString(one.resolve("tokenizer.json"), "{}");
    Files.writeString(one.resolve(".hidden"), "");
    assertThat(Repository.artifact(one)).isEqualTo(one);
  }

  @Test
  void policiesPickVersionFolders() {
    assertThat(Repository.wanted(java.util.Set.of(3L, 1L, 2L),
        dev.modserv.core.VersionPolicy.latest(2))).containsExactly(2L, 3L);
    assertThat(Repository.wanted(java.util.Set.of(3L, 1L),
        dev.modserv.core.VersionPolicy.all())).containsExactly(1L, 3L);
    assertThat(Repository.wanted(java.util.Set.of(3L, 1L, 2L),
        dev.modserv.core.VersionPolicy.specific(2, 5))).containsExactly(2L);
    ModelSettings pinned = new ModelSettings(dev.modserv.core.ModelConfig.defaults(), Map.of(),
        Map.of("stable", 1L, "gone", 9L), true, "{}");
    assertThat(Repository.wanted(java.util.Set.of(3L, 1L, 2L), pinned)).containsExactly(1L, 3L);
  }

  static Map<Long, ModelState> states(ModelServer server, String name) {
    Map<Long, ModelState> m = new java.util.TreeMap<>();
    server.registry().versions(name).forEach(s -> m.put(s.version(), s.state()));
    return m;
  }

  static void awaitState(ModelServer server, String name, long v, ModelState state)
      throws InterruptedException {
    await(name + " v" + v + " " + state, () -> server.registry().status(name, v)
        .map(ModelStatus::state).equals(Optional.of(state)));
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
