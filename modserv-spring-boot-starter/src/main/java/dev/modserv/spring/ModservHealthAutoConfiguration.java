package dev.modserv.spring;

import dev.modserv.core.ModelServer;
import dev.modserv.core.Readiness;
import dev.modserv.spring.internal.ModelServerHealth;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The {@code modserv} health indicator ({@code /actuator/health/modserv}), which also joins the
 * readiness group unless {@code modserv.readiness.group} is false or the group is configured.
 */
@AutoConfiguration(after = ModservAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean({ModelServer.class, Readiness.class})
@ConditionalOnEnabledHealthIndicator("modserv")
public class ModservHealthAutoConfiguration {
  /** Named {@code modserv} in health. */
  @Bean
  @ConditionalOnMissingBean(name = "modservHealthIndicator")
  public HealthIndicator modservHealthIndicator(ModelServer server, Readiness readiness) {
    return new ModelServerHealth(server, readiness);
  }
}
