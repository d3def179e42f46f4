package dev.modserv.spring;

import static dev.modserv.spring.Fixtures.JSON;
import static dev.modserv.spring.Fixtures.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.core.BatchingPolicy;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.Readiness;
import dev.modserv.http.Dialect;
import dev.modserv.http.HttpAdapter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.util.unit.DataSize;

/**
 * Every property docs/spring-boot.md lists, set to a value other than its default, and where each
 * lands: the bound properties, the models' configurations, the routes on the application's server
 * (base path, dialects, body limit), and modserv's own server on a second port.
 */
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
        "modserv.enabled=true",
        "modserv.models.iris.batching.max-batch-size=8",
        "modserv.models.iris.batching.preferred-batch-sizes=4,8",
        "modserv.models.iris.batching.max-queue-delay=5ms",
        "modserv.models.iris.batching.max-queue-size=64",
        "modserv.models.iris.batching.instances=2",
        "modserv.models.iris.batching.default-timeout=3s",
        "modserv.models.iris.keep-alive=10m",
        "modserv.models.iris.memory=2MB",
        "modserv.models.iris.warmup=false",
        "modserv.models.iris.response-cache=true",
        "modserv.models.iris.embedding-cache=true",
        "modserv.models.iris.engine-options.intra-op-threads=1",
        "modserv.models.mlp.version=7",
        "modserv.models.mlp.lazy=true",
        "modserv.models.mlp.backend=onnx",
        "modserv.max-loaded-memory=512MB",
        "modserv.response-cache-size=1MB",
        "modserv.embedding-cache-size=2MB",
        "modserv.default-timeout=30s",
        "modserv.discover-backends=true",
        "modserv.readiness.required-models=iris",
        "modserv.readiness.strict=false",
        "modserv.readiness.group=true",
        "modserv.web.enabled=true",
        "modserv.web.base-path=/models/",
        "modserv.web.dialects=openai,oip",
        "modserv.web.max-body-size=1KB",
        "modserv.http.enabled=true",
        "modserv.http.port=0",
        "modserv.http.host=127.0.0.1",
        "modserv.http.api-key=secret",
        "modserv.http.dialects=native,oip",
        "modserv.http.max-body-size=2KB",
        "modserv.http.grace-period=1s",
        "modserv.http.selector-spin=0ms",
        "modserv.http.selectors=3"})
class PropertiesBindingTest {
  private static Path repository;

  @Value("${local.server.port}") int port;
  @Autowired ModservProperties properties;
  @Autowired ModelServer server;
  @Autowired Readiness readiness;
  @Autowired HttpAdapter secondPort;

  /** A repository with one model, iris, at version 3, and a folder that is not a version. */
  @DynamicPropertySource
  static void paths(DynamicPropertyRegistry p) {
    try {
      repository = Files.createTempDirectory("modserv-repo");
      Files.createDirectories(repository.resolve("iris/3"));
      Files.copy(Fixtures.MLP, repository.resolve("iris/3/model.onnx"));
      Files.createDirectories(repository.resolve("iris/notes"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    p.add("modserv.repository", repository::toString);
    p.add("modserv.models.mlp.path", () -> Fixtures.MLP.toString());
  }

  @BeforeEach
  void ready() throws InterruptedException {
    Fixtures.awaitReady(readiness);
  }

  @Test
  void everyPropertyBinds() {
    ModservProperties p = properties;
    assertThat(p.isEnabled()).isTrue();
    assertThat(p.getRepository()).isEqualTo(repository);
    assertThat(p.getMaxLoadedMemory()).isEqualTo(DataSize.ofMegabytes(512));
    assertThat(p.getResponseCacheSize()).isEqualTo(DataSize.ofMegabytes(1));
    assertThat(p.getEmbeddingCacheSize()).isEqualTo(DataSize.ofMegabytes(2));
    assertThat(p.getDefaultTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(p.isDiscoverBackends()).isTrue();
    assertThat(p.getReadiness().getRequiredModels()).containsExactly("iris");
    assertThat(p.getReadiness().isStrict()).isFalse();
    assertThat(p.getReadiness().isGroup()).isTrue();
    assertThat(p.getWeb().isEnabled()).isTrue();
    assertThat(p.getWeb().getBasePath()).isEqualTo("/models/");
    assertThat(p.getWeb().getDialects()).containsExactlyInAnyOrder(Dialect.OPENAI, Dialect.OIP);
    assertThat(p.getWeb().getMaxBodySize()).isEqualTo(DataSize.ofKilobytes(1));
    assertThat(p.getHttp().isEnabled()).isTrue();
    assertThat(p.getHttp().getPort()).isZero();
    assertThat(p.getHttp().getHost()).isEqualTo("127.0.0.1");
    assertThat(p.getHttp().getApiKey()).isEqualTo("secret");
    assertThat(p.getHttp().getDialects()).isEqualTo(EnumSet.of(Dialect.NATIVE, Dialect.OIP));
    assertThat(p.getHttp().getMaxBodySize()).isEqualTo(DataSize.ofKilobytes(2));
    assertThat(p.getHttp().getGracePeriod()).isEqualTo(Duration.ofSeconds(1));
    assertThat(p.getHttp().getSelectorSpin()).isZero();
    assertThat(p.getHttp().getSelectors()).isEqualTo(3);
    ModservProperties.Model mlp = p.getModels().get("mlp");
    assertThat(mlp.getPath()).isEqualTo(Fixtures.MLP);
    assertThat(mlp.getVersion()).isEqualTo(7);
    assertThat(mlp.isLazy()).isTrue();
    assertThat(mlp.getBackend()).isEqualTo("onnx");
    assertThat(p.getModels().get("iris").getEngineOptions())
        .isEqualTo(Map.of("intra-op-threads", "1"));
  }

  @Test
  void aRepositoryModelTakesItsSettingsFromItsName() {
    ModelConfig iris = server.registry().config("iris");
    BatchingPolicy b = iris.batching();
    assertThat(b.maxBatchSize()).isEqualTo(8);
    assertThat(b.preferredBatchSizes()).containsExactly(4, 8);
    assertThat(b.maxQueueDelay()).isEqualTo(Duration.ofMillis(5));
    assertThat(b.maxQueueSize()).isEqualTo(64);
    assertThat(b.instances()).hasValue(2);
    assertThat(b.defaultTimeout()).contains(Duration.ofSeconds(3));
    assertThat(iris.keepAlive()).isEqualTo(Duration.ofMinutes(10));
    assertThat(iris.memoryBytes()).isEqualTo(2L << 20);
    assertThat(iris.warmup()).isFalse();
    assertThat(iris.responseCache()).isTrue();
    assertThat(iris.embeddingCache()).isTrue();
    // Version folder 3 only: "notes" is not a version.
    assertThat(server.registry().versions("iris")).extracting(ModelStatus::version)
        .containsExactly(3L);
    assertThat(server.registry().versions("iris").get(0).memoryBytes()).isEqualTo(2L << 20);
  }

  @Test
  void aLazyModelIsRegisteredNotLoaded() {
    assertThat(server.registry().config("mlp").backend()).contains("onnx");
    assertThat(server.registry().versions("mlp")).isEmpty();
    assertThat(server.registry().registered()).extracting(ModelStatus::name, ModelStatus::version)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("mlp", 7L));
  }

  @Test
  void theRoutesTakeTheBasePathDialectsAndBodyLimit() throws Exception {
    HttpResponse<String> models = send(port, "GET", "/models/v1/models", null);
    assertThat(models.statusCode()).as(models.body()).isEqualTo(200);
    assertThat(JSON.readTree(models.body()).get("data").findValuesAsText("id")).contains("iris");
    // Native is not served here, nor anything outside the base path.
    assertThat(send(port, "POST", "/models/api/predict", "{}").statusCode()).isEqualTo(404);
    assertThat(send(port, "GET", "/v1/models", null).statusCode()).isEqualTo(404);
    HttpResponse<String> big = send(port, "POST", "/models/v2/models/iris/infer",
        "{\"inputs\":[],\"pad\":\"" + "x".repeat(2000) + "\"}");
    assertThat(big.statusCode()).as(big.body()).isEqualTo(413);
  }

  @Test
  void theSecondPortServesItsDialectsBehindTheApiKey() throws Exception {
    int second = secondPort.port();
    assertThat(second).isNotEqualTo(port);
    assertThat(send(second, "GET", "/v2/health/ready", null).statusCode()).isEqualTo(200);
    assertThat(send(second, "GET", "/v2/models/iris", null).statusCode()).isEqualTo(401);
    HttpResponse<String> meta = Fixtures.CLIENT.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + second + "/v2/models/iris"))
        .header("Authorization", "Bearer secret").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(meta.statusCode()).as(meta.body()).isEqualTo(200);
    assertThat(JSON.readTree(meta.body()).get("versions").toString()).contains("3");
    HttpResponse<String> openAi = Fixtures.CLIENT.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + second + "/v1/models"))
        .header("Authorization", "Bearer secret").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(openAi.statusCode()).isEqualTo(404);
  }
}
