package dev.modserv.spring;

import static dev.modserv.spring.Fixtures.JSON;
import static dev.modserv.spring.Fixtures.send;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.core.ModelServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Actuator's health, readiness and liveness as a required model's state changes: readiness waits
 * for a model not there yet, stays down while its load FAILED (strict), and comes up once a version
 * is READY; liveness stays up throughout.
 */
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
        "modserv.readiness.required-models=mlp,late",
        "management.endpoint.health.probes.enabled=true",
        "management.endpoint.health.show-details=always",
        "management.endpoints.web.exposure.include=health"})
class HealthTest {
  @Value("${local.server.port}") int port;
  @Autowired ModelServer server;
  @TempDir Path dir;

  @DynamicPropertySource
  static void models(DynamicPropertyRegistry p) {
    p.add("modserv.models.mlp.path", () -> Fixtures.MLP.toString());
  }

  @Test
  void readinessFollowsTheRequiredModels() throws Exception {
    Fixtures.awaitReady(server.registry(), "mlp");
    JsonNode waiting = health("/actuator/health/readiness", 503);
    assertThat(waiting.at("/components/modserv/status").asText()).isEqualTo("OUT_OF_SERVICE");
    assertThat(waiting.at("/components/modserv/details/waiting").toString()).contains("late");
    assertThat(waiting.at("/components/readinessState/status").asText()).isEqualTo("UP");
    health("/actuator/health/liveness", 200);

    Path broken = Files.write(dir.resolve("broken.onnx"), new byte[] {1, 2, 3});
    assertThat(server.registry().load("late", 1, broken)).failsWithin(
        java.time.Duration.ofSeconds(60));
    JsonNode failed = health("/actuator/health/readiness", 503);
    assertThat(failed.at("/components/modserv/details/models/late/1").asText())
        .startsWith("FAILED");
    health("/actuator/health/liveness", 200);

    server.registry().load("late", 2, Fixtures.MLP).join();
    JsonNode up = health("/actuator/health/readiness", 200);
    assertThat(up.at("/components/modserv/status").asText()).isEqualTo("UP");
    assertThat(up.at("/components/modserv/details/models/late/2").asText()).isEqualTo("READY");
    JsonNode all = health("/actuator/health", 200);
    assertThat(all.at("/components/modserv/status").asText()).isEqualTo("UP");
  }

  private JsonNode health(String path, int status) throws Exception {
    HttpResponse<String> r = send(port, "GET", path, null);
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(status);
    return JSON.readTree(r.body());
  }
}
