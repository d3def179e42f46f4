package dev.modserv.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The manifests in deploy/kubernetes parse, and the fields probes and ports need agree: each
 * probe targets a declared container port (by name or number) and a path the server answers, the
 * server is told to listen on that port, and the Service forwards to it.
 */
class KubernetesManifestsTest {
  private static final Path DIR = Path.of("../deploy/kubernetes");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static List<JsonNode> documents(Path file) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    try (YAMLParser p = (YAMLParser) YAML.getFactory().createParser(file.toFile())) {
      YAML.readValues(p, JsonNode.class).forEachRemaining(d -> {
        if (d != null && !d.isNull() && !d.isMissingNode()) {
          docs.add(d);
        }
      });
    }
    return docs;
  }

  static Map<String, JsonNode> byKind(List<JsonNode> docs) {
    Map<String, JsonNode> m = new HashMap<>();
    for (JsonNode d : docs) {
      assertThat(d.path("apiVersion").asText()).isNotEmpty();
      assertThat(d.path("metadata").path("name").asText()).isNotEmpty();
      m.put(d.path("kind").asText(), d);
    }
    return m;
  }

  static String env(JsonNode container, String name) {
    for (JsonNode e : container.path("env")) {
      if (e.path("name").asText().equals(name)) {
        return e.path("value").asText();
      }
    }
    return null;
  }

  /** Returns the container port a probe or Service port refers to, by name or number. */
  static int resolvePort(JsonNode container, JsonNode port) {
    for (JsonNode p : container.path("ports")) {
      if (port.isInt() && p.path("containerPort").asInt() == port.asInt()) {
        return port.asInt();
      }
      if (port.isTextual() && p.path("name").asText().equals(port.asText())) {
        return p.path("containerPort").asInt();
      }
    }
    throw new AssertionError("port " + port + " is not a container port of "
        + container.path("name"));
  }

  @Test
  void deploymentProbesAndServiceAgreeWithTheServer() throws IOException {
    Map<String, JsonNode> k = byKind(documents(DIR.resolve("modserv.yaml")));
    assertThat(k).containsKeys("Deployment", "Service", "HorizontalPodAutoscaler");
    JsonNode deployment = k.get("Deployment");
    assertThat(deployment.path("apiVersion").asText()).isEqualTo("apps/v1");
    JsonNode pod = deployment.path("spec").path("template");
    assertThat(deployment.path("spec").path("selector").path("matchLabels"))
        .isEqualTo(pod.path("metadata").path("labels"));
    JsonNode c = pod.path("spec").path("containers").get(0);
    int port = Integer.parseInt(env(c, "MODSERV_PORT"));
    assertThat(c.path("ports").get(0).path("containerPort").asInt()).isEqualTo(port);
    assertThat(c.path("ports").get(0).path("protocol").asText()).isEqualTo("TCP");

    JsonNode liveness = c.path("livenessProbe").path("httpGet");
    JsonNode readiness = c.path("readinessProbe").path("httpGet");
    assertThat(liveness.path("path").asText()).isEqualTo("/health");
    assertThat(readiness.path("path").asText()).isEqualTo("/ready");
    assertThat(resolvePort(c, liveness.path("port"))).isEqualTo(port);
    assertThat(resolvePort(c, readiness.path("port"))).isEqualTo(port);

    // The grace period lets in-flight requests finish before the kubelet's SIGKILL.
    long grace = dev.modserv.server.internal.Units.duration(env(c, "MODSERV_GRACE_PERIOD"))
        .toSeconds();
    assertThat(pod.path("spec").path("terminationGracePeriodSeconds").asLong())
        .isGreaterThan(grace);
    // The repository the server reads is mounted.
    String repo = env(c, "MODSERV_MODEL_REPOSITORY");
    assertThat(c.path("volumeMounts").findValuesAsText("mountPath")).contains(repo);
    String keyFile = env(c, "MODSERV_API_KEY_FILE");
    assertThat(c.path("volumeMounts").findValuesAsText("mountPath"))
        .anyMatch(m -> keyFile.startsWith(m + "/"));

    JsonNode service = k.get("Service");
    assertThat(service.path("spec").path("selector"))
        .isEqualTo(pod.path("metadata").path("labels"));
    assertThat(resolvePort(c, service.path("spec").path("ports").get(0).path("targetPort")))
        .isEqualTo(port);
    assertThat(k.get("HorizontalPodAutoscaler").path("spec").path("scaleTargetRef")
        .path("name").asText()).isEqualTo(deployment.path("metadata").path("name").asText());
  }

  @Test
  void kserveCustomPredictorUsesTheOipV2Probes() throws IOException {
    Map<String, JsonNode> k = byKind(documents(DIR.resolve("kserve-inferenceservice.yaml")));
    JsonNode isvc = k.get("InferenceService");
    assertThat(isvc.path("apiVersion").asText()).isEqualTo("serving.kserve.io/v1beta1");
    JsonNode c = isvc.path("spec").path("predictor").path("containers").get(0);
    assertThat(c.path("name").asText()).isEqualTo("kserve-container");
    int port = Integer.parseInt(env(c, "MODSERV_PORT"));
    assertThat(port).isEqualTo(8080); // KServe's default container port
    assertThat(c.path("ports").get(0).path("containerPort").asInt()).isEqualTo(port);
    assertThat(c.path("livenessProbe").path("httpGet").path("path").asText())
        .isEqualTo("/v2/health/live");
    assertThat(c.path("readinessProbe").path("httpGet").path("path").asText())
        .isEqualTo("/v2/health/ready");
    assertThat(resolvePort(c, c.path("livenessProbe").path("httpGet").path("port")))
        .isEqualTo(port);
    assertThat(resolvePort(c, c.path("readinessProbe").path("httpGet").path("port")))
        .isEqualTo(port);
    List<String> args = new ArrayList<>();
    c.path("args").forEach(a -> args.add(a.asText()));
    assertThat(args).containsSubsequence("--model-repository", "/mnt/models");
  }
}
