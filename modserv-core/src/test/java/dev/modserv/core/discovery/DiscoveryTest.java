package dev.modserv.core.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.testkit.FakeBackend;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DiscoveryTest {

  @BeforeEach
  void reset() {
    TestProviders.LOADS.clear();
    TestProviders.CLOSES.clear();
  }

  private static int loads(String name) {
    return TestProviders.LOADS.getOrDefault(name, new AtomicInteger()).get();
  }

  @Test
  void ordersByPriorityThenNameAndSurvivesBrokenProviders() {
    try (ModelServer server = ModelServer.builder().build()) {
      // The testkit's fake provider is on the class path too, with the lowest priority.
      assertThat(server.backends()).containsExactly("high", "alpha", "beta", "fake");
      assertThat(server.discoveryFailures()).hasSize(2);
      assertThat(String.join("\n", server.discoveryFailures()))
          .contains("TestProviders$Broken")
          .contains("NoSuchProvider");
    }
  }

  @Test
  void picksTheFirstProviderThatSupportsTheSource() {
    try (ModelServer server = ModelServer.builder().build()) {
      server.registry().load("a", 1, Path.of("high-a.fake")).join();
      server.registry().load("b", 1, Path.of("b.fake")).join();
      assertThat(loads("high")).isEqualTo(1);
      assertThat(loads("alpha")).isEqualTo(1);
      assertThat(loads("beta")).isZero();
    }
  }

  @Test
  void modelConfigurationCanNameTheBackend() {
    try (ModelServer server = ModelServer.builder().build()) {
      server.registry().configure("b", ModelConfig.builder().backend("beta").build());
      server.registry().load("b", 1, Path.of("b.fake")).join();
      assertThat(loads("beta")).isEqualTo(1);
      assertThat(loads("alpha")).isZero();
    }
  }

  @Test
  void explicitBackendsComeFirstAndShadowDiscoveredOnesOfTheirName() {
    FakeBackend fake = FakeBackend.create();
    try (ModelServer server = ModelServer.builder().backend(fake).build()) {
      assertThat(server.backends()).containsExactly("fake", "high", "alpha", "beta");
      server.registry().load("a", 1, Path.of("high-a.fake")).join();
      assertThat(fake.loaded()).hasSize(1);
      assertThat(loads("high")).isZero();
    }
    assertThat(fake.closeCalls()).as("an explicit backend belongs to the caller").isZero();
  }

  @Test
  void excludedAndDisabledDiscovery() {
    try (ModelServer server = ModelServer.builder().excludeBackend("high").build()) {
      assertThat(server.backends()).containsExactly("alpha", "beta", "fake");
    }
    try (ModelServer server = ModelServer.builder().discoverBackends(false).build()) {
      assertThat(server.backends()).isEmpty();
      assertThat(server.discoveryFailures()).isEmpty();
    }
  }

  @Test
  void discoveryIsPerServerAndDiscoveredBackendsCloseWithTheirServer() {
    ModelServer first = ModelServer.builder().build();
    ModelServer second = ModelServer.builder().build();
    first.registry().load("a", 1, Path.of("a.fake")).join();
    second.registry().load("a", 1, Path.of("a.fake")).join();
    first.close();
    assertThat(TestProviders.CLOSES.get("alpha")).hasValue(1);
    assertThat(second.infer("a", java.util.Map.of("x",
        dev.modserv.api.Tensor.of(new float[4], 1, 4))).version()).isEqualTo(1);
    second.close();
    assertThat(TestProviders.CLOSES.get("alpha")).hasValue(2);
  }
}
