package dev.modserv.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelServerListener;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.Readiness;
import dev.modserv.http.HttpAdapter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Closing the context closes modserv's HTTP server, then the model server, unloading models. */
class ContextCloseTest {
  @Test
  void closingTheContextUnloadsTheModels() throws Exception {
    List<String> unloaded = new CopyOnWriteArrayList<>();
    ModelServerListener listener = new ModelServerListener() {
      @Override
      public void unloaded(String model, long version) {
        unloaded.add(model + "/" + version);
      }
    };
    ConfigurableApplicationContext context = new SpringApplicationBuilder(TestApp.class)
        .initializers(c -> c.getBeanFactory().registerSingleton("listener", listener))
        .web(WebApplicationType.NONE)
        .properties("modserv.models.mlp.path=" + Fixtures.MLP, "modserv.http.enabled=true",
            "modserv.http.port=0")
        .run();
    ModelServer server = context.getBean(ModelServer.class);
    Fixtures.awaitReady(context.getBean(Readiness.class));
    HttpAdapter http = context.getBean(HttpAdapter.class);
    int port = http.port();
    assertThat(Fixtures.send(port, "GET", "/health", null).statusCode()).isEqualTo(200);
    List<ModelStatus> before = server.registry().versions("mlp");
    assertThat(before).extracting(ModelStatus::state).containsExactly(ModelState.READY);

    assertThat(unloaded).isEmpty();

    context.close();

    assertThat(unloaded).containsExactly("mlp/1");
    assertThatThrownBy(() -> server.infer("mlp", Map.of("x", Tensor.of(new float[4], 1, 4))))
        .isInstanceOf(ModelServingException.class)
        .satisfies(e -> assertThat(((ModelServingException) e).code())
            .isEqualTo(ErrorCode.SHUTTING_DOWN));
    assertThatThrownBy(() -> Fixtures.send(port, "GET", "/health", null))
        .isInstanceOf(java.io.IOException.class);
  }

  @Test
  void aSelectorCountOutOfRangeStopsTheStartNamingTheProperty() {
    for (String bad : List.of("0", "65")) {
      assertThatThrownBy(() -> new SpringApplicationBuilder(TestApp.class)
          .web(WebApplicationType.NONE)
          .properties("modserv.models.mlp.path=" + Fixtures.MLP, "modserv.http.enabled=true",
              "modserv.http.port=0", "modserv.http.selectors=" + bad)
          .run().close())
          .as(bad)
          .hasStackTraceContaining("modserv.http.selectors: selectors must be in 1..64: " + bad);
    }
  }
}
