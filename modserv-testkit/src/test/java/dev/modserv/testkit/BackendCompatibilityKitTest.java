package dev.modserv.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.DataType;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.Backend;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/** The kit fails a backend that breaks its contract: each of its tests can fail. */
class BackendCompatibilityKitTest {
  private static final ModelSource SOURCE = ModelSource.of(Path.of("model.fake"));
  private static final Map<String, Tensor> INPUTS =
      Map.of("x", Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 4));

  /** Runs kit tests by hand against a given backend. */
  private static final class Probe extends BackendCompatibilityKit {
    private final Backend backend;
    private final Map<String, Tensor> inputs;

    Probe(Backend backend, Map<String, Tensor> inputs) {
      this.backend = backend;
      this.inputs = inputs;
    }

    Probe(Backend backend) {
      this(backend, INPUTS);
    }

    @Override
    protected Backend backend() {
      return backend;
    }

    @Override
    protected ModelSource source() {
      return SOURCE;
    }

    @Override
    protected Map<String, Tensor> sampleInputs() {
      return inputs;
    }

    /** Runs one kit test between the kit's own set-up and tear-down. */
    void run(KitTest test) throws Exception {
      createBackend();
      try {
        test.run(this);
      } finally {
        closeModels();
      }
    }
  }

  @FunctionalInterface
  private interface KitTest {
    void run(Probe probe) throws Exception;
  }

  private enum Flaw {
    NONE,
    NOT_DETERMINISTIC,
    IGNORES_REQUESTED_OUTPUTS,
    DROPS_OUTPUTS,
    ROWS_DEPEND_ON_BATCH,
    THREAD_CONFINED,
    CLOSE_IS_SHARED
  }

  /** A backend over the fake one, with one flaw in its models. */
  private static class FlawedBackend implements Backend {
    private final FakeBackend fake;
    private final Flaw flaw;
    private final AtomicInteger calls = new AtomicInteger();
    private final java.util.List<FakeModel> all = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile @Nullable Thread firstCaller;

    FlawedBackend(FakeBackend fake, Flaw flaw) {
      this.fake = fake;
      this.flaw = flaw;
    }

    @Override
    public String name() {
      return fake.name();
    }

    @Override
    public boolean supports(ModelSource source) {
      return fake.supports(source);
    }

    @Override
    public LoadedModel load(ModelSource source) throws Exception {
      FakeModel model = fake.load(source);
      all.add(model);
      return new LoadedModel() {
        @Override
        public ModelMetadata metadata() {
          return model.metadata();
        }

        @Override
        public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs)
            throws Exception {
          if (firstCaller == null) {
            firstCaller = Thread.currentThread();
          }
          Map<String, Tensor> out =
              new LinkedHashMap<>(
                  model.run(inputs, flaw == Flaw.IGNORES_REQUESTED_OUTPUTS ? Set.of() : outputs));
          switch (flaw) {
            case NOT_DETERMINISTIC -> out.replaceAll((k, t) -> plus(t, calls.incrementAndGet()));
            case DROPS_OUTPUTS -> out.remove(out.keySet().iterator().next());
            case ROWS_DEPEND_ON_BATCH -> out.replaceAll((k, t) -> plus(t, (float) t.dim(0)));
            case THREAD_CONFINED -> {
              if (Thread.currentThread() != firstCaller) {
                out.replaceAll((k, t) -> plus(t, 1));
              }
            }
            default -> {}
          }
          return out;
        }

        @Override
        public void close() {
          if (flaw == Flaw.CLOSE_IS_SHARED) {
            all.forEach(FakeModel::close);
          } else {
            model.close();
          }
        }
      };
    }
  }

  private static Tensor plus(Tensor t, float delta) {
    float[] values = t.toFloatArray();
    for (int i = 0; i < values.length; i++) {
      values[i] += delta;
    }
    return Tensor.of(values, t.shape());
  }

  private static ModelMetadata twoOutputs() {
    return ModelMetadata.builder("fake")
        .input(TensorSpec.of("x", DataType.FP32, -1, 4))
        .output(TensorSpec.of("y", DataType.FP32, -1, 4))
        .output(TensorSpec.of("z", DataType.FP32, -1, 4))
        .build();
  }

  private static Probe flawed(Flaw flaw) {
    return new Probe(new FlawedBackend(FakeBackend.builder().metadata(twoOutputs()).build(), flaw));
  }

  private static final List<KitTest> ALL_TESTS =
      List.of(
          BackendCompatibilityKit::supportsItsOwnSource,
          BackendCompatibilityKit::loadGivesMetadata,
          BackendCompatibilityKit::runReturnsEveryDeclaredOutput,
          BackendCompatibilityKit::runReturnsOnlyTheRequestedOutput,
          BackendCompatibilityKit::runIsDeterministic,
          BackendCompatibilityKit::concurrentRunsAgreeWithALoneCall,
          BackendCompatibilityKit::closeOnceSucceeds,
          BackendCompatibilityKit::batchableOutputsFollowInputRows,
          BackendCompatibilityKit::secondLoadIsIndependent);

  @Test
  void aSoundBackendPassesEveryTestAndEveryModelIsClosedOnce() throws Exception {
    FakeBackend fake = FakeBackend.builder().metadata(twoOutputs()).build();
    Probe probe = new Probe(new FlawedBackend(fake, Flaw.NONE));
    for (KitTest test : ALL_TESTS) {
      assertThatCode(() -> probe.run(test)).doesNotThrowAnyException();
    }
    assertThat(fake.loaded()).isNotEmpty();
    for (FakeModel model : fake.loaded()) {
      assertThat(model.closeCalls()).as(model.toString()).isEqualTo(1);
      assertThat(model.runsAfterClose()).isZero();
    }
    assertThat(fake.isClosed()).as("the kit leaves the backend to its owner").isFalse();
  }

  @Test
  void aBackendThatDoesNotSupportItsSourceFails() {
    Backend picky =
        new FlawedBackend(FakeBackend.create(), Flaw.NONE) {
          @Override
          public boolean supports(ModelSource source) {
            return false;
          }
        };
    assertThatThrownBy(() -> new Probe(picky).run(BackendCompatibilityKit::supportsItsOwnSource))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("must support");
  }

  @Test
  void metadataNamingAnotherEngineFails() {
    ModelMetadata other =
        ModelMetadata.builder("other")
            .input(TensorSpec.of("x", DataType.FP32, -1, 4))
            .output(TensorSpec.of("y", DataType.FP32, -1, 4))
            .build();
    Probe probe = new Probe(FakeBackend.builder().metadata(other).build());
    assertThatThrownBy(() -> probe.run(BackendCompatibilityKit::loadGivesMetadata))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("metadata names the engine that loaded it");
  }

  @Test
  void sampleInputsThatDoNotMatchTheMetadataFail() {
    Map<String, Tensor> wrongName = Map.of("w", INPUTS.get("x"));
    assertThatThrownBy(
            () ->
                new Probe(FakeBackend.create(), wrongName)
                    .run(BackendCompatibilityKit::loadGivesMetadata))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("sampleInputs() must name exactly the model's inputs");
    Map<String, Tensor> wrongShape = Map.of("x", Tensor.zeros(DataType.FP32, 2, 3));
    assertThatThrownBy(
            () ->
                new Probe(FakeBackend.create(), wrongShape)
                    .run(BackendCompatibilityKit::loadGivesMetadata))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("sample input 'x': shape [2, 3] does not fit x: FP32[-1, 4]");
  }

  @Test
  void droppedOutputsFail() {
    assertThatThrownBy(
            () ->
                flawed(Flaw.DROPS_OUTPUTS)
                    .run(BackendCompatibilityKit::runReturnsEveryDeclaredOutput))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("with no output named, all");
  }

  @Test
  void ignoringTheRequestedOutputsFails() {
    assertThatThrownBy(
            () ->
                flawed(Flaw.IGNORES_REQUESTED_OUTPUTS)
                    .run(BackendCompatibilityKit::runReturnsOnlyTheRequestedOutput))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("asked for 'y' only");
  }

  @Test
  void nondeterminismFails() {
    assertThatThrownBy(
            () -> flawed(Flaw.NOT_DETERMINISTIC).run(BackendCompatibilityKit::runIsDeterministic))
        .isInstanceOf(AssertionError.class);
  }

  @Test
  void answersThatDependOnTheCallingThreadFailTheConcurrencyTest() throws Exception {
    assertThatCode(
            () -> flawed(Flaw.THREAD_CONFINED).run(BackendCompatibilityKit::runIsDeterministic))
        .as("a lone thread sees nothing wrong")
        .doesNotThrowAnyException();
    assertThatThrownBy(
            () ->
                flawed(Flaw.THREAD_CONFINED)
                    .run(BackendCompatibilityKit::concurrentRunsAgreeWithALoneCall))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("every concurrent call must give the lone call's");
  }

  @Test
  void rowsThatDependOnTheBatchFail() {
    assertThatThrownBy(
            () ->
                flawed(Flaw.ROWS_DEPEND_ON_BATCH)
                    .run(BackendCompatibilityKit::batchableOutputsFollowInputRows))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("first half of 'y'")
        .hasMessageContaining("in a batch");
  }

  @Test
  void closingOneModelThatClosesTheOtherFails() {
    assertThatThrownBy(
            () ->
                flawed(Flaw.CLOSE_IS_SHARED).run(BackendCompatibilityKit::secondLoadIsIndependent))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("model closed");
  }

  @Test
  void theBatchingTestIsSkippedLoudlyForAModelThatIsNotBatchable() {
    ModelMetadata fixed =
        ModelMetadata.builder("fake")
            .input(TensorSpec.of("x", DataType.FP32, 2, 4))
            .output(TensorSpec.of("y", DataType.FP32, 2, 4))
            .build();
    Probe probe = new Probe(FakeBackend.builder().metadata(fixed).build());
    assertThatThrownBy(() -> probe.run(BackendCompatibilityKit::batchableOutputsFollowInputRows))
        .isInstanceOf(TestAbortedException.class)
        .hasMessageContaining("the model is not BATCHABLE");
  }

  @Test
  void stackAndRowsHandleEveryKindOfTensor() {
    Tensor strings = Tensor.of(new String[] {"a", "b", "c", "d"}, 2, 2);
    Tensor stacked =
        BackendCompatibilityKit.stack(strings, Tensor.of(new String[] {"e", "f"}, 1, 2));
    assertThat(stacked).isEqualTo(Tensor.of(new String[] {"a", "b", "c", "d", "e", "f"}, 3, 2));
    assertThat(BackendCompatibilityKit.rows(stacked, 1, 2))
        .isEqualTo(Tensor.of(new String[] {"c", "d", "e", "f"}, 2, 2));

    Tensor longs = Tensor.of(new long[] {1, 2, 3}, 3);
    Tensor twice = BackendCompatibilityKit.stack(longs, longs);
    assertThat(twice).isEqualTo(Tensor.of(new long[] {1, 2, 3, 1, 2, 3}, 6));
    assertThat(BackendCompatibilityKit.rows(twice, 2, 2))
        .isEqualTo(Tensor.of(new long[] {3, 1}, 2));

    Tensor bools = Tensor.of(new boolean[] {true, false}, 1, 2);
    assertThat(BackendCompatibilityKit.rows(BackendCompatibilityKit.stack(bools, bools), 1, 1))
        .isEqualTo(bools);

    Map<String, Tensor> byName = new HashMap<>();
    byName.put("h", Tensor.of(DataType.FP16, new short[] {1, 2}, 2, 1));
    assertThat(BackendCompatibilityKit.stack(byName.get("h"), byName.get("h")).shape())
        .containsExactly(4, 1);
  }
}
