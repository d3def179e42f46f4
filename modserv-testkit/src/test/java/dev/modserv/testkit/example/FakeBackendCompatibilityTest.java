package dev.modserv.testkit.example;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.api.Tensor;
import dev.modserv.spi.Backend;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.BackendCompatibilityKit;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.FakeModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;

/**
 * The fake engine passes the kit every engine runs. This class sits in a package of its own, as an
 * engine's subclass does, so that it sees only the kit's public and protected members.
 */
class FakeBackendCompatibilityTest extends BackendCompatibilityKit {
  private static final List<FakeBackend> BACKENDS = new CopyOnWriteArrayList<>();

  @Override
  protected Backend backend() {
    FakeBackend backend = FakeBackend.builder().cost(Duration.ofMillis(1)).build();
    BACKENDS.add(backend);
    return backend;
  }

  @Override
  protected ModelSource source() {
    return ModelSource.of(Path.of("models", "iris.fake")).withOption("offset", "0.5");
  }

  @Override
  protected Map<String, Tensor> sampleInputs() {
    return Map.of("x", Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 4));
  }

  /** The kit's set-up and tear-down ran for every test: each model was closed exactly once. */
  @AfterAll
  static void everyModelWasClosedOnceAndNeverUsedAfter() {
    assertThat(BACKENDS).as("backend() is called once per test").hasSize(9);
    List<FakeModel> models = BACKENDS.stream().flatMap(b -> b.loaded().stream()).toList();
    assertThat(models).hasSizeGreaterThanOrEqualTo(9);
    for (FakeModel model : models) {
      assertThat(model.closeCalls()).as(model.toString()).isEqualTo(1);
      assertThat(model.runsAfterClose()).as(model.toString()).isZero();
      assertThat(model.closedDuringRun()).as(model.toString()).isFalse();
    }
    assertThat(BACKENDS).noneMatch(FakeBackend::isClosed);
  }
}
