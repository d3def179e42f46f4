package dev.modserv.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.cfg.PackageVersion;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.util.Jetty;
import org.junit.jupiter.api.Test;

/**
 * The Jetty, Jackson, Micrometer and SLF4J on this module's test class path are the versions
 * Spring Boot's dependency management gives an application (spring-boot-dependencies), so the
 * starter's tests run on what a Boot application resolves.
 */
class BootManagedVersionsTest {
  private static String managed(String property) throws Exception {
    String pom = Files.readString(Path.of(System.getProperty("boot.dependencies.pom")));
    Matcher m = Pattern.compile("<" + Pattern.quote(property) + ">([^<]+)</").matcher(pom);
    assertThat(m.find()).as(property + " in spring-boot-dependencies").isTrue();
    return m.group(1);
  }

  private static String jarVersion(Class<?> type) {
    String path = type.getProtectionDomain().getCodeSource().getLocation().getPath();
    return Path.of(path).getParent().getFileName().toString();
  }

  @Test
  void jettyIsBoots() throws Exception {
    assertThat(Jetty.VERSION).isEqualTo(managed("jetty.version"));
  }

  @Test
  void jacksonIsBoots() throws Exception {
    assertThat(PackageVersion.VERSION.toString()).isEqualTo(managed("jackson-2-bom.version"));
  }

  @Test
  void micrometerIsBoots() throws Exception {
    assertThat(jarVersion(MeterRegistry.class)).isEqualTo(managed("micrometer.version"));
    assertThat(jarVersion(io.micrometer.prometheusmetrics.PrometheusMeterRegistry.class))
        .isEqualTo(managed("micrometer.version"));
    assertThat(jarVersion(io.prometheus.metrics.model.registry.PrometheusRegistry.class))
        .isEqualTo(managed("prometheus-client.version"));
  }

  @Test
  void slf4jIsBoots() throws Exception {
    assertThat(jarVersion(org.slf4j.Logger.class)).isEqualTo(managed("slf4j.version"));
  }
}
