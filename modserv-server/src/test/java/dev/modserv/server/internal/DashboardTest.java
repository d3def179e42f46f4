package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.http.HttpAdapter;
import dev.modserv.testkit.FakeBackend;
import dev.modserv.testkit.TalkBackend;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code deploy/grafana/modserv-dashboard.json}: every query of every panel (and of its model
 * variable) names only meters that {@code /metrics} exports, after traffic of every kind.
 */
class DashboardTest {
  private static final Path DASHBOARD = Path.of("../deploy/grafana/modserv-dashboard.json");
  /** A series name in PromQL: the exported families all start so. */
  private static final Pattern SERIES = Pattern.compile(
      "\\b((?:modserv|jvm|process|system)_[a-z_]+)\\b");
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).build();

  private static List<String> queries(JsonNode dashboard) {
    List<String> queries = new ArrayList<>();
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.get("targets")) {
        queries.add(target.get("expr").asText());
      }
    }
    for (JsonNode variable : dashboard.get("templating").get("list")) {
      if (variable.get("type").asText().equals("query")) {
        queries.add(variable.get("query").asText());
      }
    }
    return queries;
  }

  private static String post(HttpAdapter http, String path, String body) throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void everyQueryNamesAnExportedMeter() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    List<String> queries = queries(dashboard);
    assertThat(queries).hasSizeGreaterThan(20);

    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    StandaloneServer.bindJvmAndProcess(registry);
    String scraped;
    try (ModelServer server = ModelServer.builder().backend(FakeBackend.create())
        .backend(new TalkBackend()).discoverBackends(false).meterRegistry(registry).build()) {
      server.registry().configure("iris", ModelConfig.builder().responseCache(true).build());
      server.registry().load("iris", 1, Path.of("iris.fake")).join();
      server.registry().load("talk", 1, Path.of("talk.talk")).join();
      try (HttpAdapter http = HttpAdapter.builder(server).port(0).build()) {
        http.start();
        post(http, "/api/predict", "{\"model\":\"iris\",\"inputs\":[[1,2,3,4]]}");
        post(http, "/api/predict", "{\"model\":\"nope\",\"inputs\":[[1,2,3,4]]}");
        post(http, "/v1/embeddings", "{\"model\":\"talk\",\"input\":\"a b\"}");
        post(http, "/v1/chat/completions", "{\"model\":\"talk\",\"messages\":[{\"role\":"
            + "\"user\",\"content\":\"one two three\"}]}");
        scraped = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + http.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
      }
    }
    Set<String> exported = new TreeSet<>();
    for (String line : scraped.lines().toList()) {
      if (!line.isEmpty() && !line.startsWith("#")) {
        exported.add(line.split("[{ ]", 2)[0]);
      }
    }
    for (String query : queries) {
      Matcher m = SERIES.matcher(query);
      List<String> named = new ArrayList<>();
      while (m.find()) {
        named.add(m.group(1));
      }
      assertThat(named).as("the meters of " + query).isNotEmpty();
      assertThat(exported).as(query).containsAll(named);
    }
  }
}
