package dev.modserv.spring;

import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Puts the {@code modserv} health indicator in the readiness group, beside Boot's {@code
 * readinessState}, so that {@code /actuator/health/readiness} waits for the models: as a default
 * of the lowest precedence, so any {@code management.endpoint.health.group.readiness.include} of
 * the application's wins. Not when the indicator is off: Boot refuses a group naming a missing
 * indicator. Liveness is left alone: restarting does not mend a model file.
 */
public class ModservReadinessGroup implements EnvironmentPostProcessor {
  static final String INCLUDE = "management.endpoint.health.group.readiness.include";

  @Override
  public void postProcessEnvironment(ConfigurableEnvironment environment,
      SpringApplication application) {
    if (!environment.getProperty("modserv.enabled", Boolean.class, true)
        || !environment.getProperty("modserv.readiness.group", Boolean.class, true)
        || !environment.getProperty("management.health.modserv.enabled", Boolean.class,
            environment.getProperty("management.health.defaults.enabled", Boolean.class, true))
        || environment.containsProperty(INCLUDE)) {
      return;
    }
    environment.getPropertySources().addLast(
        new MapPropertySource("modservReadinessGroup", Map.of(INCLUDE, "readinessState,modserv")));
  }
}
