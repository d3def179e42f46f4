package dev.modserv.spring;

import dev.modserv.core.ModelServer;
import dev.modserv.http.HostedRoutes;
import dev.modserv.spring.internal.ReactiveRoutes;
import dev.modserv.spring.internal.ServletRoutes;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.servlet.handler.SimpleUrlHandlerMapping;

/**
 * The REST routes ({@code /api/predict}, {@code /v2/...}, {@code /v1/...}) on the application's
 * own web server: a handler mapping under Spring MVC, a router function under WebFlux. Both answer
 * through {@link HostedRoutes}, so the JSON is the HTTP adapter's. Off with {@code
 * modserv.web.enabled=false}.
 */
@AutoConfiguration(after = ModservAutoConfiguration.class)
@ConditionalOnBean(ModelServer.class)
@ConditionalOnBooleanProperty(name = "modserv.web.enabled", matchIfMissing = true)
public class ModservWebAutoConfiguration {
  /** The routes, timed into the application's registry. */
  @Bean
  @ConditionalOnWebApplication
  public HostedRoutes modservHostedRoutes(ModelServer server, ModservProperties properties,
      ObjectProvider<MeterRegistry> meterRegistry) {
    HostedRoutes.Builder b = HostedRoutes.builder(server)
        .dialects(properties.getWeb().getDialects())
        .maxBodyBytes(properties.getWeb().getMaxBodySize().toBytes());
    meterRegistry.ifAvailable(b::meterRegistry);
    return b.build();
  }

  static String basePath(ModservProperties properties) {
    String base = properties.getWeb().getBasePath().strip();
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    if (!base.isEmpty() && !base.startsWith("/")) {
      throw new IllegalStateException("modserv.web.base-path must start with '/': " + base);
    }
    return base;
  }

  /** Spring MVC: a handler mapping of the routes' paths, after the application's controllers. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
  @ConditionalOnClass(SimpleUrlHandlerMapping.class)
  static class Mvc {
    @Bean
    SimpleUrlHandlerMapping modservHandlerMapping(HostedRoutes routes,
        ModservProperties properties) {
      String base = basePath(properties);
      ServletRoutes handler = new ServletRoutes(routes, base,
          properties.getWeb().getMaxBodySize().toBytes());
      Map<String, Object> urls = new LinkedHashMap<>();
      // Path only: a method no route takes is the routes' 405, in their dialect.
      routes.endpoints().forEach(e -> urls.put(base + e.path(), handler));
      return new SimpleUrlHandlerMapping(urls, Ordered.LOWEST_PRECEDENCE - 10);
    }
  }

  /** WebFlux: a router function of the routes' paths. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
  @ConditionalOnClass(RouterFunction.class)
  static class Flux {
    @Bean
    RouterFunction<ServerResponse> modservRouterFunction(HostedRoutes routes,
        ModservProperties properties) {
      String base = basePath(properties);
      ReactiveRoutes handler = new ReactiveRoutes(routes, base,
          properties.getWeb().getMaxBodySize().toBytes());
      RouterFunctions.Builder b = RouterFunctions.route();
      routes.endpoints().stream().map(e -> base + e.path()).distinct()
          .forEach(path -> b.route(RequestPredicates.path(path), handler::handle));
      return b.build();
    }
  }
}
