package dev.modserv.spring;

import static dev.modserv.spring.Fixtures.JSON;
import static dev.modserv.spring.Fixtures.flat;
import static dev.modserv.spring.Fixtures.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modserv.core.ModelServer;
import dev.modserv.core.Readiness;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The routes on the application's own web server, called with a real HTTP client: native
 * predict, OIP v2 infer, OpenAI embeddings and streamed chat. Each subclass runs them on one web
 * stack (Spring MVC on Tomcat, WebFlux on Netty), in one context.
 */
abstract class RoutesContract {
  @Value("${local.server.port}") int port;
  @Autowired ModelServer server;
  @Autowired Readiness readiness;
  @Autowired MeterRegistry meters;

  @DynamicPropertySource
  static void models(DynamicPropertyRegistry p) {
    p.add("modserv.models.mlp.path", () -> Fixtures.MLP.toString());
    p.add("modserv.models.minilm.path", () -> Fixtures.MINILM.toString());
    p.add("modserv.models.tiny.path", () -> Fixtures.gguf().toString());
    for (Map.Entry<String, String> o : Map.of("context-size", "512", "threads", "2",
        "seed", "3", "worker-start-seconds", "120").entrySet()) {
      p.add("modserv.models.tiny.engine-options." + o.getKey(), o::getValue);
    }
  }

  @BeforeEach
  void modelsReady() throws InterruptedException {
    Fixtures.awaitReady(readiness);
  }

  @Test
  void nativePredictAnswersTheModelsOutputs() throws Exception {
    JsonNode ref = Fixtures.references();
    HttpResponse<String> r = send(port, "POST", "/api/predict",
        "{\"model\":\"mlp\",\"inputs\":{\"x\":" + rows(ref.get("x"), 4) + "}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("X-Request-Id")).isPresent();
    assertClose(flat(JSON.readTree(r.body()).get("outputs")), flat(ref.get("y")));
    // The application's registry has the model's meters and the route's timer.
    assertThat(meters.find("modserv.requests").tag("model", "mlp").counters()).isNotEmpty();
    assertThat(meters.find("modserv.http.requests").tag("route", "/api/predict").timer())
        .isNotNull();
  }

  @Test
  void oipInferAnswersTheModelsOutputs() throws Exception {
    JsonNode ref = Fixtures.references();
    HttpResponse<String> r = send(port, "POST", "/v2/models/mlp/infer",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[3,4],\"datatype\":\"FP32\",\"data\":"
            + ref.get("x") + "}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode out = JSON.readTree(r.body()).get("outputs").get(0);
    assertThat(out.get("name").asText()).isEqualTo("y");
    assertThat(out.get("shape").toString()).isEqualTo("[3,3]");
    assertClose(flat(out.get("data")), flat(ref.get("y")));
  }

  @Test
  void oipErrorsKeepTheirDialect() throws Exception {
    HttpResponse<String> r = send(port, "POST", "/v2/models/nope/infer",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}");
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(r.body()).get("error").asText()).contains("nope");
    HttpResponse<String> wrongMethod = send(port, "GET", "/v2/models/mlp/infer", null);
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("POST");
  }

  @Test
  void openAiEmbeddingsEqualTheServersOwn() throws Exception {
    HttpResponse<String> r = send(port, "POST", "/v1/embeddings",
        "{\"model\":\"minilm\",\"input\":[\"the sky is blue\",\"models in process\"]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode data = JSON.readTree(r.body()).get("data");
    float[][] expected = server.embed("minilm", List.of("the sky is blue", "models in process"));
    assertThat(data.size()).isEqualTo(2);
    for (int i = 0; i < 2; i++) {
      List<Double> got = flat(data.get(i).get("embedding"));
      assertThat(got).hasSize(expected[i].length);
      for (int j = 0; j < got.size(); j++) {
        assertThat(got.get(j)).isCloseTo(expected[i][j], within(1e-6));
      }
    }
  }

  @Test
  void chatCompletionsStreamServerSentEvents() throws Exception {
    HttpResponse<String> r = send(port, "POST", "/v1/chat/completions",
        "{\"model\":\"tiny\",\"stream\":true,\"max_tokens\":6,\"seed\":3,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Why is the sky blue?\"}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
    List<String> events = new ArrayList<>();
    for (String line : r.body().split("\n")) {
      if (line.startsWith("data: ")) {
        events.add(line.substring(6));
      }
    }
    assertThat(events).last().isEqualTo("[DONE]");
    List<JsonNode> chunks = new ArrayList<>();
    for (String e : events.subList(0, events.size() - 1)) {
      chunks.add(JSON.readTree(e));
    }
    assertThat(chunks).hasSizeGreaterThan(2);
    assertThat(chunks).allSatisfy(c ->
        assertThat(c.get("object").asText()).isEqualTo("chat.completion.chunk"));
    assertThat(chunks.stream().map(c -> c.get("choices").get(0).path("finish_reason").asText())
        .filter(f -> !f.isEmpty() && !f.equals("null")).toList()).containsExactly("length");
  }

  static String rows(JsonNode flat, int width) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < flat.size(); i += width) {
      b.append(i == 0 ? "[" : ",[");
      for (int j = 0; j < width; j++) {
        b.append(j == 0 ? "" : ",").append(flat.get(i + j).asDouble());
      }
      b.append(']');
    }
    return b.append(']').toString();
  }

  static void assertClose(List<Double> got, List<Double> expected) {
    assertThat(got).hasSize(expected.size());
    for (int i = 0; i < got.size(); i++) {
      assertThat(got.get(i)).isCloseTo(expected.get(i), within(1e-4));
    }
  }
}
