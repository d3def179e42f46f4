package dev.modserv.spring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.web.servlet.DispatcherServlet;

/** The routes under Spring MVC, on Tomcat (Boot's default servlet stack). */
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class MvcRoutesTest extends RoutesContract {
  @Autowired ApplicationContext context;

  @Test
  void runsOnTheServletStack() {
    assertThat(context.getBeansOfType(DispatcherServlet.class)).isNotEmpty();
  }
}
