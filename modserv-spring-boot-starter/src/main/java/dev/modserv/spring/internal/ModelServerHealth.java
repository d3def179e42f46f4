package dev.modserv.spring.internal;

import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.Readiness;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The {@code modserv} health indicator: UP when every required model can be served (the same
 * rule as the HTTP adapter's {@code /ready}), OUT_OF_SERVICE otherwise, with each model's versions
 * and states, and the models waited for.
 */
public final class ModelServerHealth extends AbstractHealthIndicator {
  private final ModelServer server;
  private final Readiness readiness;

  /** Reports on {@code server} by {@code readiness}. */
  public ModelServerHealth(ModelServer server, Readiness readiness) {
    super("modserv health check failed");
    this.server = server;
    this.readiness = readiness;
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    List<String> waiting = readiness.waiting();
    if (waiting.isEmpty()) {
      builder.up();
    } else {
      builder.outOfService().withDetail("waiting", waiting);
    }
    Map<String, Map<String, String>> models = new LinkedHashMap<>();
    for (ModelStatus s : server.registry().models()) {
      String state = s.state().name();
      if (s.failure().isPresent()) {
        state += ": " + s.failure().get();
      }
      models.computeIfAbsent(s.name(), n -> new LinkedHashMap<>())
          .put(Long.toString(s.version()), state);
    }
    builder.withDetail("models", models);
  }
}
