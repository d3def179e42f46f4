package dev.modserv.spring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.mock.env.MockEnvironment;

/** When the starter puts its indicator in the readiness group, and when it leaves the group be. */
class ModservReadinessGroupTest {
  private static String include(String... properties) {
    MockEnvironment env = new MockEnvironment();
    for (String p : properties) {
      env.setProperty(p.substring(0, p.indexOf('=')), p.substring(p.indexOf('=') + 1));
    }
    new ModservReadinessGroup().postProcessEnvironment(env, new SpringApplication());
    return env.getProperty(ModservReadinessGroup.INCLUDE);
  }

  @Test
  void joinsTheReadinessGroupByDefault() {
    assertThat(include()).isEqualTo("readinessState,modserv");
  }

  @Test
  void leavesAGroupTheApplicationConfigured() {
    assertThat(include(ModservReadinessGroup.INCLUDE + "=readinessState,db"))
        .isEqualTo("readinessState,db");
  }

  @Test
  void staysOutWhenTheIndicatorOrTheStarterIsOff() {
    assertThat(include("modserv.readiness.group=false")).isNull();
    assertThat(include("modserv.enabled=false")).isNull();
    assertThat(include("management.health.modserv.enabled=false")).isNull();
    assertThat(include("management.health.defaults.enabled=false")).isNull();
    assertThat(include("management.health.defaults.enabled=false",
        "management.health.modserv.enabled=true")).isEqualTo("readinessState,modserv");
  }
}
