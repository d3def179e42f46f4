package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelServer;
import dev.modserv.http.HttpAdapter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenAI and Ollama routes' shapes, field by field, on the MiniLM embedding model. */
class LlmRoutesTest {
  private static final Path MINILM = Path.of(System.getProperty("modserv.minilm"));
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).build();

  static ModelServer server;
  static HttpAdapter http;

  @BeforeAll
  static void start() {
    server = ModelServer.builder().build();
    server.registry().load("minilm", 1, MINILM).join();
    http = HttpAdapter.builder(server).port(0).host("127.0.0.1").build();
    http.start();
  }

  @AfterAll
  static void stop() {
    http.close();
    server.close();
  }

  static HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + http.port() + path));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body));
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  @Test
  void openAiModels() throws Exception {
    JsonNode list = json(send("GET", "/v1/models", null));
    assertThat(list.get("object").asText()).isEqualTo("list");
    JsonNode m = list.get("data").get(0);
    assertThat(m.get("id").asText()).isEqualTo("minilm");
    assertThat(m.get("object").asText()).isEqualTo("model");
    assertThat(m.get("created").asLong()).isPositive();
    assertThat(m.get("owned_by").asText()).isEqualTo("modserv");
    assertThat(json(send("GET", "/v1/models/minilm", null)).get("id").asText())
        .isEqualTo("minilm");

    var missing = send("GET", "/v1/models/nope", null);
    assertThat(missing.statusCode()).isEqualTo(404);
    JsonNode error = json(missing).get("error");
    assertThat(error.get("message").asText()).isEqualTo("model 'nope' not found");
    assertThat(error.get("type").asText()).isEqualTo("not_found_error");
    assertThat(error.get("param").isNull()).isTrue();
    assertThat(error.get("code").asText()).isEqualTo("model_not_found");
  }

  @Test
  void openAiEmbeddingsAsFloatsAndBase64() throws Exception {
    String body = "{\"model\":\"minilm\",\"input\":[\"hello world\",\"food\"]}";
    JsonNode floats = json(send("POST", "/v1/embeddings", body));
    assertThat(floats.get("object").asText()).isEqualTo("list");
    assertThat(floats.get("model").asText()).isEqualTo("minilm");
    assertThat(floats.get("usage").get("prompt_tokens").asInt()).isEqualTo(4 + 3);
    assertThat(floats.get("usage").get("total_tokens").asInt()).isEqualTo(7);
    JsonNode first = floats.get("data").get(0);
    assertThat(first.get("object").asText()).isEqualTo("embedding");
    assertThat(first.get("index").asInt()).isZero();
    assertThat(floats.get("data").get(1).get("index").asInt()).isEqualTo(1);
    assertThat(first.get("embedding")).hasSize(384);

    JsonNode b64 = json(send("POST", "/v1/embeddings",
        "{\"model\":\"minilm\",\"input\":[\"hello world\",\"food\"],\"encoding_format\":\"base64\","
            + "\"dimensions\":384}"));
    ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(
        b64.get("data").get(0).get("embedding").asText())).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(bytes.remaining()).isEqualTo(384 * 4);
    for (int i = 0; i < 384; i++) {
      assertThat(bytes.getFloat()).isEqualTo((float) first.get("embedding").get(i).asDouble());
    }
  }

  @Test
  void openAiBadRequestsNameTheParameter() throws Exception {
    var dims = send("POST", "/v1/embeddings",
        "{\"model\":\"minilm\",\"input\":\"x\",\"dimensions\":64}");
    assertThat(dims.statusCode()).isEqualTo(400);
    assertThat(json(dims).get("error").get("param").asText()).isEqualTo("dimensions");
    assertThat(json(dims).get("error").get("type").asText()).isEqualTo("invalid_request_error");

    var tokens = send("POST", "/v1/embeddings", "{\"model\":\"minilm\",\"input\":[[101,102]]}");
    assertThat(tokens.statusCode()).isEqualTo(400);
    assertThat(json(tokens).get("error").get("message").asText())
        .contains("token arrays are not supported");

    var chat = send("POST", "/v1/chat/completions",
        "{\"model\":\"minilm\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(chat.statusCode()).isEqualTo(400);
    assertThat(json(chat).get("error").get("message").asText())
        .contains("model 'minilm' does not generate text (it supports embedding)");
  }

  @Test
  void ollamaListingsAndLiveness() throws Exception {
    var root = send("GET", "/", null);
    assertThat(root.statusCode()).isEqualTo(200);
    assertThat(root.body()).isEqualTo("Ollama is running");
    var head = send("HEAD", "/", null);
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(json(send("GET", "/api/version", null)).get("version").asText()).isNotEmpty();

    JsonNode tags = json(send("GET", "/api/tags", null)).get("models");
    assertThat(tags).hasSize(1);
    assertThat(tags.get(0).get("name").asText()).isEqualTo("minilm");
    assertThat(tags.get(0).get("size").asLong()).isPositive();
    assertThat(tags.get(0).get("details").get("format").asText()).isEqualTo("onnxruntime");

    JsonNode ps = json(send("GET", "/api/ps", null)).get("models");
    assertThat(ps.get(0).get("name").asText()).isEqualTo("minilm");
    assertThat(ps.get(0).get("size_vram").asLong()).isZero();

    JsonNode show = json(send("POST", "/api/show", "{\"model\":\"minilm\"}"));
    assertThat(show.get("capabilities")).extracting(JsonNode::asText)
        .containsExactly("embedding");
    assertThat(show.get("model_info").get("embedding_length").asInt()).isEqualTo(384);
    assertThat(send("POST", "/api/show", "{\"model\":\"nope\"}").statusCode()).isEqualTo(404);
  }

  @Test
  void ollamaEmbed() throws Exception {
    JsonNode r = json(send("POST", "/api/embed",
        "{\"model\":\"minilm\",\"input\":[\"hello world\",\"food\"]}"));
    assertThat(r.get("model").asText()).isEqualTo("minilm");
    assertThat(r.get("embeddings")).hasSize(2);
    assertThat(r.get("embeddings").get(0)).hasSize(384);
    assertThat(r.get("prompt_eval_count").asInt()).isEqualTo(7);
    assertThat(r.get("total_duration").asLong()).isPositive();
    float[][] expected = server.embed("minilm", List.of("hello world", "food"));
    for (int i = 0; i < 384; i++) {
      assertThat((float) r.get("embeddings").get(1).get(i).asDouble()).isEqualTo(expected[1][i]);
    }

    JsonNode legacy = json(send("POST", "/api/embeddings",
        "{\"model\":\"minilm\",\"prompt\":\"food\"}"));
    assertThat(legacy.get("embedding")).hasSize(384);

    var chat = send("POST", "/api/chat",
        "{\"model\":\"minilm\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(chat.statusCode()).isEqualTo(400);
    assertThat(json(chat).get("error").asText()).startsWith("model: model 'minilm' does not");
  }
}
