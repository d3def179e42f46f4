package dev.modserv.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.FakeModel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ModelServerTest {
  private static final Path MODEL = Path.of("iris.fake");

  private ModelServer server;

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  private ModelServer serve(FakeBackend backend) {
    server = ModelServer.builder().backend(backend).discoverBackends(false).build();
    return server;
  }

  static Map<String, Tensor> row(float... values) {
    return Map.of("x", Tensor.of(values, 1, values.length));
  }

  static void assertCode(ThrowingCallable call, ErrorCode code, String messagePart) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(ModelServingException.class, e -> {
          assertThat(e.code()).isEqualTo(code);
          assertThat(e.getMessage()).contains(messagePart);
        });
  }

  static void assertFailed(CompletableFuture<?> future, ErrorCode code, String messagePart) {
    assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS))
        .satisfies(t -> {
          assertThat(ModelServingException.codeOf(t)).contains(code);
          assertThat(ModelServingException.find(t).orElseThrow().getMessage()).contains(messagePart);
        });
  }

  @Test
  void loadsWarmsUpServesAndUnloads() {
    FakeBackend backend = FakeBackend.create();
    serve(backend);
    ModelStatus status = server.registry().load("iris", 1, MODEL).join();

    assertThat(status.state()).isEqualTo(ModelState.READY);
    assertThat(status.warmedUp()).isTrue();
    assertThat(status.loadedAt()).isPresent();
    assertThat(status.metadata().orElseThrow().inputs()).extracting(TensorSpec::name)
        .containsExactly("x");
    FakeModel model = backend.loaded().get(0);
    assertThat(model.runCalls()).as("warm-up with zeros ran once").isEqualTo(1);
    assertThat(model.rowsPerRun()).containsExactly(1L);

    InferenceResult result = server.infer("iris", row(1, 2, 3, 4));
    assertThat(result.model()).isEqualTo("iris");
    assertThat(result.version()).isEqualTo(1);
    assertThat(result.requireOutput("y").toFloatArray()).containsExactly(2, 4, 6, 8);
    assertThat(result.timings().total()).isGreaterThanOrEqualTo(result.timings().inference());

    server.registry().unload("iris", 1).join();
    assertThat(model.closeCalls()).isEqualTo(1);
    assertThat(server.registry().versions("iris")).isEmpty();
    assertCode(() -> server.infer("iris", row(1, 2, 3, 4)), ErrorCode.MODEL_NOT_READY,
        "model 'iris' has no READY version (none loaded)");
  }

  @Test
  void metadataFollowsWhatARequestWouldReach() {
    serve(FakeBackend.create());
    assertThat(server.registry().metadata(ModelRef.of("iris"))).isEmpty();
    server.registry().configure("iris", ModelConfig.builder().versionPolicy(VersionPolicy.all())
        .build());
    server.registry().load("iris", 1, MODEL).join();
    server.registry().load("iris", 2, MODEL).join();
    server.registry().label("iris", "stable", 1);
    ModelMetadata expected = FakeBackend.defaultMetadata();
    assertThat(server.registry().metadata(ModelRef.of("iris"))).contains(expected);
    assertThat(server.registry().metadata(ModelRef.parse("iris:stable"))).contains(expected);
    assertThat(server.registry().metadata(ModelRef.of("iris", 2))).contains(expected);
    assertThat(server.registry().metadata(ModelRef.of("iris", 9))).isEmpty();
    assertThat(server.registry().metadata(ModelRef.parse("iris:canary"))).isEmpty();
    assertThat(server.registry().metadata(ModelRef.of("nope"))).isEmpty();
  }

  @Test
  void declaredWarmupSamplesRunInsteadOfZeros() {
    FakeBackend backend = FakeBackend.create();
    serve(backend);
    server.registry().configure("iris", ModelConfig.builder()
        .warmupSample(Map.of("x", Tensor.of(new float[8], 2, 4))).build());
    server.registry().load("iris", 1, MODEL).join();
    assertThat(backend.loaded().get(0).rowsPerRun()).containsExactly(2L);
  }

  @Test
  void warmupCanBeTurnedOff() {
    FakeBackend backend = FakeBackend.create();
    serve(backend);
    server.registry().configure("iris", ModelConfig.builder().warmup(false).build());
    ModelStatus status = server.registry().load("iris", 1, MODEL).join();
    assertThat(status.warmedUp()).isFalse();
    assertThat(backend.loaded().get(0).runCalls()).isZero();
  }

  @Test
  void failedWarmupFailsTheLoadAndClosesTheModel() {
    FakeBackend backend = FakeBackend.builder()
        .runFailure(inputs -> true, () -> new IllegalStateException("boom in warm-up")).build();
    serve(backend);
    assertFailed(server.registry().load("iris", 1, MODEL), ErrorCode.LOAD_FAILED,
        "warm-up of 'iris' version 1 failed: boom in warm-up");
    ModelStatus status = server.registry().status("iris", 1).orElseThrow();
    assertThat(status.state()).isEqualTo(ModelState.FAILED);
    assertThat(status.failure().orElseThrow()).contains("boom in warm-up");
    assertThat(backend.loaded().get(0).closeCalls()).isEqualTo(1);
  }

  @Test
  void badWarmupSampleFailsTheLoadWithTheInputProblem() {
    serve(FakeBackend.create());
    server.registry().configure("iris", ModelConfig.builder()
        .warmupSample(Map.of("x", Tensor.of(new float[3], 1, 3))).build());
    assertFailed(server.registry().load("iris", 1, MODEL), ErrorCode.LOAD_FAILED,
        "model 'iris': input 'x': expected shape [-1, 4], got [1, 3]");
  }

  @Test
  void engineLoadFailureIsLoadFailedWithCauseAndTheVersionCanBeLoadedAgain() {
    FakeBackend backend = FakeBackend.builder()
        .loadFailure(s -> s.location().toString().startsWith("broken"),
            () -> new IOException("truncated file")).build();
    serve(backend);
    CompletableFuture<ModelStatus> load = server.registry().load("iris", 1, Path.of("broken.fake"));
    assertFailed(load, ErrorCode.LOAD_FAILED, "truncated file");
    assertThat(server.registry().status("iris", 1).orElseThrow().state())
        .isEqualTo(ModelState.FAILED);
    assertCode(() -> server.infer(InferenceRequest.builder(ModelRef.of("iris", 1))
        .inputs(row(1, 2, 3, 4)).build()), ErrorCode.LOAD_FAILED, "failed to load");

    server.registry().load("iris", 1, MODEL).join();
    assertThat(server.infer("iris", row(1, 1, 1, 1)).version()).isEqualTo(1);
  }

  @Test
  void requestToAModelWhoseOnlyVersionFailedIsLoadFailedWithItsCauseAndNoRetryHint() {
    FakeBackend backend = FakeBackend.builder()
        .loadFailure(s -> s.location().toString().startsWith("broken"),
            () -> new IOException("truncated file")).build();
    serve(backend);
    assertFailed(server.registry().load("iris", 2, Path.of("broken.fake")), ErrorCode.LOAD_FAILED,
        "truncated file");

    assertThatThrownBy(() -> server.infer("iris", row(1, 2, 3, 4)))
        .isInstanceOfSatisfying(ModelServingException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.LOAD_FAILED);
          assertThat(e.getMessage()).contains("version 2 of 'iris' is FAILED")
              .contains("truncated file");
          assertThat(e.retryAfter()).isEmpty();
        });

    // A READY version beside the failed one still serves requests by name.
    server.registry().load("iris", 1, MODEL).join();
    assertThat(server.infer("iris", row(1, 2, 3, 4)).version()).isEqualTo(1);
  }

  @Test
  void noBackendForTheSourceIsLoadFailedNamingTheBackends() {
    serve(FakeBackend.create());
    assertFailed(server.registry().load("m", 1, Path.of("model.onnx")), ErrorCode.LOAD_FAILED,
        "no backend can load 'model.onnx'; available backends: [fake]");
  }

  @Test
  void unknownRequiredBackendIsLoadFailed() {
    serve(FakeBackend.create());
    server.registry().configure("m", ModelConfig.builder().backend("tensorflow").build());
    assertFailed(server.registry().load("m", 1, MODEL), ErrorCode.LOAD_FAILED,
        "backend 'tensorflow' is not available; available backends: [fake]");
  }

  @Test
  void loadingAVersionTwiceIsRefused() {
    serve(FakeBackend.create());
    server.registry().load("iris", 1, MODEL).join();
    assertFailed(server.registry().load("iris", 1, MODEL), ErrorCode.LOAD_FAILED,
        "version 1 of 'iris' is already READY; unload it");
  }

  @Test
  void specificPolicyRefusesOtherVersions() {
    serve(FakeBackend.create());
    server.registry().configure("iris",
        ModelConfig.builder().versionPolicy(VersionPolicy.specific(1, 3)).build());
    assertFailed(server.registry().load("iris", 2, MODEL), ErrorCode.LOAD_FAILED,
        "version 2 of 'iris' is not in its version policy specific[1, 3]");
    server.registry().load("iris", 3, MODEL).join();
    server.registry().load("iris", 1, MODEL).join();
    assertThat(server.registry().versions("iris")).extracting(ModelStatus::version)
        .containsExactly(1L, 3L);
  }

  @Test
  void latestPolicyUnloadsOlderVersionsOnceTheNewOneIsReady() {
    FakeBackend backend = FakeBackend.create();
    serve(backend);
    server.registry().configure("iris",
        ModelConfig.builder().versionPolicy(VersionPolicy.latest(2)).build());
    server.registry().load("iris", 1, MODEL).join();
    server.registry().load("iris", 2, MODEL).join();
    server.registry().load("iris", 3, MODEL).join();
    awaitVersions("iris", 2L, 3L);
    assertThat(server.infer("iris", row(1, 1, 1, 1)).version()).isEqualTo(3);
    assertThat(server.infer(InferenceRequest.builder("iris:2").inputs(row(1, 1, 1, 1)).build())
        .version()).isEqualTo(2);
  }

  @Test
  void defaultPolicyKeepsOnlyTheLatestButKeepsLabelledVersions() {
    FakeBackend backend = FakeBackend.create();
    serve(backend);
    server.registry().load("iris", 1, MODEL).join();
    server.registry().label("iris", "stable", 1);
    server.registry().load("iris", 2, MODEL).join();
    assertThat(server.registry().versions("iris")).extracting(ModelStatus::version)
        .containsExactly(1L, 2L);
    assertThat(server.infer(InferenceRequest.builder("iris:stable").inputs(row(1, 1, 1, 1))
        .build()).version()).isEqualTo(1);
    assertThat(server.infer("iris", row(1, 1, 1, 1)).version()).isEqualTo(2);
    assertThat(server.registry().status("iris", 1).orElseThrow().labels())
        .containsExactly("stable");

    server.registry().label("iris", "stable", 2);   // v1 is no longer kept by a label
    awaitVersions("iris", 2L);
    assertThat(backend.loaded().get(0).closeCalls()).isEqualTo(1);
    assertThat(server.infer(InferenceRequest.builder("iris:stable").inputs(row(1, 1, 1, 1))
        .build()).version()).isEqualTo(2);
  }

  @Test
  void labelErrors() {
    FakeBackend backend = FakeBackend.builder().loadDelay(Duration.ofMillis(300)).build();
    serve(backend);
    assertCode(() -> server.registry().label("iris", "stable", 1), ErrorCode.MODEL_NOT_FOUND,
        "model 'iris' is not registered");
    CompletableFuture<ModelStatus> loading = server.registry().load("iris", 1, MODEL);
    assertCode(() -> server.registry().label("iris", "stable", 1), ErrorCode.MODEL_NOT_READY,
        "it is LOADING, and a label may only point at a READY version");
    assertCode(() -> server.registry().label("iris", "stable", 7), ErrorCode.VERSION_NOT_FOUND,
        "model 'iris' has no version 7; versions: [1]");
    assertThatThrownBy(() -> server.registry().label("iris", "latest", 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
    loading.join();
    assertCode(() -> server.infer(InferenceRequest.builder("iris:canary").inputs(row(1, 1, 1, 1))
        .build()), ErrorCode.VERSION_NOT_FOUND, "model 'iris' has no label 'canary'");
    assertCode(() -> server.registry().removeLabel("iris", "canary"), ErrorCode.VERSION_NOT_FOUND,
        "has no label 'canary'");
  }

  @Test
  void requestErrorsCarryTheirCodes() {
    serve(FakeBackend.create());
    server.registry().load("iris", 1, MODEL).join();
    assertCode(() -> server.infer("nope", row(1, 2, 3, 4)), ErrorCode.MODEL_NOT_FOUND,
        "model 'nope' is not registered; registered models: [iris]");
    assertCode(() -> server.infer("iris:9", row(1, 2, 3, 4)), ErrorCode.VERSION_NOT_FOUND,
        "model 'iris' has no version 9; versions: [1]");
    assertCode(() -> server.infer("iris", row(1, 2, 3)), ErrorCode.INVALID_INPUT,
        "model 'iris': input 'x': expected shape [-1, 4], got [1, 3]");
    assertCode(() -> server.infer("iris", Map.of("x", Tensor.of(new long[4], 1, 4))),
        ErrorCode.INVALID_INPUT, "input 'x': expected FP32, got INT64");
    assertCode(() -> server.infer("iris", Map.of("x", Tensor.of(new float[4], 4))),
        ErrorCode.INVALID_INPUT, "input 'x': expected shape [-1, 4], got [4]");
    assertCode(() -> server.infer("iris", Map.of("z", Tensor.of(new float[4], 1, 4))),
        ErrorCode.INVALID_INPUT, "model 'iris': unknown input 'z'; the model takes [x]");
    assertCode(() -> server.infer(InferenceRequest.builder("iris").inputs(row(1, 2, 3, 4))
        .outputs("q").build()), ErrorCode.INVALID_INPUT,
        "model 'iris': unknown output 'q'; the model gives [y]");
  }

  @Test
  void requestParametersAModelDoesNotTakeAreInvalidInput() {
    serve(FakeBackend.create());
    server.registry().load("iris", 1, MODEL).join();
    assertCode(() -> server.infer(InferenceRequest.builder("iris").inputs(row(1, 2, 3, 4))
            .parameter(InferenceRequest.SIGNATURE, "other").build()), ErrorCode.INVALID_INPUT,
        "this model takes no request parameters; got [signature]");
  }

  @Test
  void emptyBatchesAndConfiguredNaNAreInvalidInput() {
    serve(FakeBackend.create());
    server.registry().configure("strict", ModelConfig.builder().rejectNaN(true).build());
    server.registry().load("iris", 1, MODEL).join();
    server.registry().load("strict", 1, Path.of("strict.fake")).join();
    assertCode(() -> server.infer("iris", Map.of("x", Tensor.of(new float[0], 0, 4))),
        ErrorCode.INVALID_INPUT, "model 'iris': input 'x': expected at least 1 row, got 0");
    assertCode(() -> server.infer("strict", row(1, Float.NaN, 3, 4)), ErrorCode.INVALID_INPUT,
        "input 'x' holds NaN at element 1; this model's configuration refuses NaN");
    assertThat(server.infer("iris", row(1, Float.NaN, 3, 4)).requireOutput("y").toFloatArray()[1])
        .as("NaN passes where the configuration allows it").isNaN();
  }

  @Test
  void missingInputAndMismatchedRowsAreInvalidInput() {
    ModelMetadata twoInputs = ModelMetadata.builder("fake")
        .input(TensorSpec.of("a", DataType.FP32, -1, 2))
        .input(TensorSpec.of("b", DataType.FP32, -1, 2))
        .output(TensorSpec.of("y", DataType.FP32, -1, 2))
        .build();
    serve(FakeBackend.builder().metadata(twoInputs).build());
    server.registry().load("pair", 1, MODEL).join();
    assertCode(() -> server.infer("pair", Map.of("a", Tensor.of(new float[2], 1, 2))),
        ErrorCode.INVALID_INPUT, "model 'pair': missing input 'b'; the model takes [a, b]");
    assertCode(() -> server.infer(InferenceRequest.builder("pair")
            .input("a", Tensor.of(new float[2], 1, 2))
            .input("b", Tensor.of(new float[4], 2, 2)).build()),
        ErrorCode.INVALID_INPUT, "input 'b': expected as many rows as input 'a' (1), got 2");
  }

  @Test
  void engineFailureIsBackendErrorAndTheModelKeepsServing() {
    FakeBackend backend = FakeBackend.builder()
        .runFailure(in -> in.get("x").toFloatArray()[0] < 0,
            () -> new IllegalStateException("engine exploded")).build();
    serve(backend);
    server.registry().load("iris", 1, MODEL).join();
    assertCode(() -> server.infer("iris", row(-1, 0, 0, 0)), ErrorCode.BACKEND_ERROR,
        "'iris' version 1 failed on a batch of 1 request(s): java.lang.IllegalStateException:"
            + " engine exploded");
    assertThat(server.infer("iris", row(1, 0, 0, 0)).requireOutput("y").toFloatArray()[0])
        .isEqualTo(2f);
  }

  @Test
  void requestsToAVersionStillLoadingWaitForItWithinTheirTimeout() {
    serve(FakeBackend.builder().loadDelay(Duration.ofMillis(300)).build());
    CompletableFuture<ModelStatus> loading = server.registry().load("iris", 1, MODEL);
    assertFailed(server.inferAsync(InferenceRequest.builder("iris:1").inputs(row(1, 2, 3, 4))
        .timeout(Duration.ofMillis(20)).build()), ErrorCode.TIMEOUT,
        "'iris:1' did not load within the request's timeout of 20 ms");
    assertThat(server.infer("iris", row(1, 2, 3, 4)).version()).isEqualTo(1);
    assertThat(loading).isCompleted();
  }

  @Test
  void requestThatCannotStartBeforeItsTimeoutIsTimeoutAndNeverRuns() throws Exception {
    Gate gate = new Gate();
    FakeBackend backend = FakeBackend.builder().duringRun(gate).build();
    ExecutorService single = Executors.newSingleThreadExecutor();
    try {
      server = ModelServer.builder().backend(backend).discoverBackends(false).executor(single)
          .build();
      server.registry().load("iris", 1, MODEL).join();
      CompletableFuture<InferenceResult> blocker =
          server.inferAsync(InferenceRequest.builder("iris").inputs(row(42, 0, 0, 0)).build());
      CompletableFuture<InferenceResult> late = server.inferAsync(InferenceRequest
          .builder("iris").inputs(row(7, 0, 0, 0)).timeout(Duration.ofMillis(50)).build());
      assertFailed(late, ErrorCode.TIMEOUT, "did not start within its timeout of 50 ms");
      gate.open();
      assertThat(blocker.get(10, TimeUnit.SECONDS).requireOutput("y").toFloatArray()[0])
          .isEqualTo(84f);
      FakeModel model = backend.loaded().get(0);
      // warm-up + the blocker; the timed-out request never reached the engine
      assertThat(model.runCalls()).isEqualTo(2);
    } finally {
      gate.open();
      server.close();
      server = null;
      single.shutdownNow();
    }
  }

  @Test
  void unloadWaitsForInFlightRequestsAndClosesOnceAfterTheLast() throws Exception {
    Gate gate = new Gate();
    FakeBackend backend = FakeBackend.builder().duringRun(gate).build();
    serve(backend);
    server.registry().load("iris", 1, MODEL).join();
    CompletableFuture<InferenceResult> inFlight =
        server.inferAsync(InferenceRequest.builder("iris").inputs(row(42, 0, 0, 0)).build());
    gate.awaitEntered();

    CompletableFuture<Void> unload = server.registry().unload("iris", 1);
    assertThat(server.registry().status("iris", 1).orElseThrow().state())
        .isEqualTo(ModelState.DRAINING);
    assertCode(() -> server.infer("iris:1", row(1, 2, 3, 4)), ErrorCode.SHUTTING_DOWN,
        "version 1 of 'iris' is unloading");
    FakeModel model = backend.loaded().get(0);
    assertThat(model.closeCalls()).isZero();
    assertThat(unload).isNotDone();

    gate.open();
    assertThat(inFlight.get(10, TimeUnit.SECONDS).requireOutput("y").toFloatArray()[0])
        .isEqualTo(84f);
    unload.get(10, TimeUnit.SECONDS);
    assertThat(model.closeCalls()).isEqualTo(1);
    assertThat(model.closedDuringRun()).isFalse();
    assertThat(model.runsAfterClose()).isZero();
  }

  @Test
  void drainGraceFailsRequestsThatHaveNotStartedWithShuttingDown() throws Exception {
    Gate gate = new Gate();
    FakeBackend backend = FakeBackend.builder().duringRun(gate).build();
    ExecutorService single = Executors.newSingleThreadExecutor();
    try {
      server = ModelServer.builder().backend(backend).discoverBackends(false).executor(single)
          .build();
      server.registry().configure("iris",
          ModelConfig.builder().drainGrace(Duration.ofMillis(100)).build());
      server.registry().load("iris", 1, MODEL).join();
      CompletableFuture<InferenceResult> running =
          server.inferAsync(InferenceRequest.builder("iris").inputs(row(42, 0, 0, 0)).build());
      CompletableFuture<InferenceResult> waiting =
          server.inferAsync(InferenceRequest.builder("iris").inputs(row(1, 0, 0, 0)).build());
      CompletableFuture<Void> unload = server.registry().unload("iris", 1);
      assertFailed(waiting, ErrorCode.SHUTTING_DOWN,
          "unloaded before the request started: the drain grace of PT0.1S ended");
      assertThat(unload).isNotDone();
      gate.open();
      assertThat(running.get(10, TimeUnit.SECONDS).version()).isEqualTo(1);
      unload.get(10, TimeUnit.SECONDS);
      assertThat(backend.loaded().get(0).closeCalls()).isEqualTo(1);
      assertThat(backend.loaded().get(0).runsAfterClose()).isZero();
    } finally {
      gate.open();
      server.close();
      server = null;
      single.shutdownNow();
    }
  }

  @Test
  void unloadWhileLoadingUnloadsWhenTheLoadEnds() {
    FakeBackend backend = FakeBackend.builder().loadDelay(Duration.ofMillis(200)).build();
    serve(backend);
    CompletableFuture<ModelStatus> load = server.registry().load("iris", 1, MODEL);
    CompletableFuture<Void> unload = server.registry().unload("iris", 1);
    assertFailed(load, ErrorCode.SHUTTING_DOWN, "was unloaded while loading");
    unload.join();
    assertThat(backend.loaded().get(0).closeCalls()).isEqualTo(1);
    assertThat(server.registry().versions("iris")).isEmpty();
  }

  @Test
  void unloadErrors() {
    serve(FakeBackend.create());
    assertCode(() -> server.registry().unload("nope", 1), ErrorCode.MODEL_NOT_FOUND,
        "model 'nope' is not registered");
    server.registry().load("iris", 1, MODEL).join();
    assertFailed(server.registry().unload("iris", 4), ErrorCode.VERSION_NOT_FOUND,
        "model 'iris' has no version 4");
  }

  @Test
  void closeDrainsEverythingAndRefusesNewWork() {
    FakeBackend backend = FakeBackend.create();
    server = ModelServer.builder().backend(backend).discoverBackends(false).build();
    server.registry().configure("a", ModelConfig.builder().versionPolicy(VersionPolicy.all())
        .build());
    server.registry().load("a", 1, MODEL).join();
    server.registry().load("a", 2, MODEL).join();
    server.registry().load("b", 1, Path.of("b.fake")).join();
    server.close();
    assertThat(backend.loaded()).hasSize(3).allSatisfy(m -> assertThat(m.closeCalls()).isEqualTo(1));
    assertThat(backend.closeCalls()).as("explicit backends belong to the caller").isZero();
    assertCode(() -> server.infer("a", row(1, 2, 3, 4)), ErrorCode.SHUTTING_DOWN,
        "the model server is closed");
    assertFailed(server.registry().load("c", 1, MODEL), ErrorCode.SHUTTING_DOWN,
        "the server is closed; load refused");
    server.close(); // idempotent
    server = null;
  }

  @Test
  void engineOptionsReachTheBackend() {
    serve(FakeBackend.create());
    server.registry().load("iris", 1, ModelSource.of(MODEL).withOption("scale", "3")).join();
    assertThat(server.infer("iris", row(1, 2, 3, 4)).requireOutput("y").toFloatArray())
        .containsExactly(3, 6, 9, 12);
  }

  @Test
  void statusListsEveryVersionWithLabels() {
    serve(FakeBackend.create());
    server.registry().configure("a", ModelConfig.builder().versionPolicy(VersionPolicy.all())
        .build());
    server.registry().load("b", 1, MODEL).join();
    server.registry().load("a", 2, MODEL).join();
    server.registry().load("a", 1, MODEL).join();
    server.registry().label("a", "canary", 2);
    List<ModelStatus> all = server.registry().models();
    assertThat(all).extracting(s -> s.name() + ":" + s.version() + ":" + s.labels())
        .containsExactly("a:1:[]", "a:2:[canary]", "b:1:[]");
  }

  private void awaitVersions(String name, Long... expected) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!server.registry().versions(name).stream().map(ModelStatus::version).toList()
        .equals(List.of(expected))) {
      if (System.nanoTime() > end) {
        assertThat(server.registry().versions(name)).extracting(ModelStatus::version)
            .containsExactly(expected);
      }
      Thread.yield();
    }
  }

  static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("latch not released in 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
