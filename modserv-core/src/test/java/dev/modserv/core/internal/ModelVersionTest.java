package dev.modserv.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelState;
import dev.modserv.core.ServingMetrics;
import dev.modserv.testkit.FakeBackend;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A version's state moves only along its lifecycle, and its model closes once. */
class ModelVersionTest {
  private final AtomicInteger closes = new AtomicInteger();

  private ModelVersion version() {
    return new ModelVersion("m", 1, ModelConfig.defaults(), ServingMetrics.noop().version("m", 1),
        0, Runnable::run, closes::incrementAndGet);
  }

  @Test
  void movesAlongTheLifecycleAndClosesOnce() {
    ModelVersion v = version();
    assertThat(v.state()).isEqualTo(ModelState.LOADING);
    v.warming(FakeBackend.defaultMetadata());
    assertThat(v.readyUnlessUnloaded(Instant.EPOCH, 0)).isTrue();
    assertThat(v.tryAcquire()).isTrue();
    v.draining();
    v.closeToNewLeases();
    assertThat(v.tryAcquire()).isFalse();
    assertThat(closes).hasValue(0);                  // a request still holds it
    v.release();
    assertThat(v.state()).isEqualTo(ModelState.UNLOADED);
    assertThat(closes).hasValue(1);
    assertThat(v.closedFuture).isCompleted();
    v.closeOnce();
    assertThat(closes).hasValue(1);
  }

  @Test
  void refusesMovesTheLifecycleDoesNotHave() {
    ModelVersion v = version();
    assertThatThrownBy(v::draining).isInstanceOf(IllegalStateException.class)
        .hasMessage("'m' version 1 cannot go from LOADING to DRAINING");
    assertThatThrownBy(() -> v.readyUnlessUnloaded(Instant.EPOCH, 0))
        .hasMessage("'m' version 1 cannot go from LOADING to READY");
    v.warming(FakeBackend.defaultMetadata());
    assertThatThrownBy(() -> v.warming(FakeBackend.defaultMetadata()))
        .hasMessage("'m' version 1 cannot go from WARMING to WARMING");
    v.failed(new IllegalStateException("warm-up failed"));
    assertThatThrownBy(v::draining).hasMessage("'m' version 1 cannot go from FAILED to DRAINING");
    assertThat(v.state()).isEqualTo(ModelState.FAILED);
  }

  @Test
  void aVersionUnloadedWhileLoadingDoesNotBecomeReady() {
    ModelVersion v = version();
    v.requestUnload();
    v.warming(FakeBackend.defaultMetadata());
    assertThat(v.readyUnlessUnloaded(Instant.EPOCH, 0)).isFalse();
    assertThat(v.state()).isEqualTo(ModelState.WARMING);
    v.draining();
    v.closeToNewLeases();
    assertThat(v.state()).isEqualTo(ModelState.UNLOADED);
    assertThat(closes).hasValue(1);
  }
}
