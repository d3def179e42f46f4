package dev.modserv.spring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.web.reactive.function.server.RouterFunction;

/** The routes under WebFlux, on Reactor Netty. */
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "spring.main.web-application-type=reactive")
class WebFluxRoutesTest extends RoutesContract {
  @Autowired ApplicationContext context;

  @Test
  void runsOnTheReactiveStack() {
    assertThat(context.getBean("modservRouterFunction")).isInstanceOf(RouterFunction.class);
  }
}
