package dev.modserv.spring;

import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelServerListener;
import dev.modserv.core.Readiness;
import dev.modserv.http.Dialect;
import dev.modserv.http.HttpAdapter;
import dev.modserv.spring.internal.ModelLoading;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The {@link ModelServer} bean, configured from {@code modserv.*} ({@link ModservProperties}) and
 * closed with the context (which unloads its models), recording into the application's {@code
 * MeterRegistry}; the models the properties name, loading from the start; the {@link Readiness}
 * over them; and, with {@code modserv.http.enabled}, modserv's own HTTP server on a second port.
 */
@AutoConfiguration(afterName = {
    "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
    "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration"})
@ConditionalOnBooleanProperty(name = "modserv.enabled", matchIfMissing = true)
@EnableConfigurationProperties(ModservProperties.class)
public class ModservAutoConfiguration {
  /**
   * The server; an application's own {@code ModelServer} bean replaces it. The application's
   * {@link ModelServerListener} beans hear its models' lifecycle.
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public ModelServer modelServer(ModservProperties properties,
      ObjectProvider<MeterRegistry> meterRegistry, ObjectProvider<ModelServerListener> listeners) {
    ModelServer.Builder b = ModelServer.builder()
        .discoverBackends(properties.isDiscoverBackends())
        .responseCacheBytes(properties.getResponseCacheSize().toBytes())
        .embeddingCacheBytes(properties.getEmbeddingCacheSize().toBytes());
    meterRegistry.ifAvailable(b::meterRegistry);
    listeners.orderedStream().forEach(b::listener);
    if (properties.getMaxLoadedMemory() != null) {
      b.maxLoadedBytes(properties.getMaxLoadedMemory().toBytes());
    }
    if (properties.getDefaultTimeout() != null) {
      b.defaultTimeout(properties.getDefaultTimeout());
    }
    return b.build();
  }

  /** The models {@code modserv.models} and {@code modserv.repository} name, loading. */
  @Bean
  public ModservModels modservModels(ModelServer server, ModservProperties properties) {
    List<String> names = ModelLoading.names(properties);
    ModelLoading.start(server.registry(), properties);
    return new ModservModels(names);
  }

  /** Whether the required models can be served: what health and readiness report. */
  @Bean
  @ConditionalOnMissingBean
  public Readiness modservReadiness(ModelServer server, ModservProperties properties,
      ModservModels models) {
    List<String> required = properties.getReadiness().getRequiredModels();
    return Readiness.of(server.registry(), required != null ? required : models.names(),
        properties.getReadiness().isStrict());
  }

  /** modserv's own HTTP server on a port of its own, started now and closed with the context. */
  @Bean(destroyMethod = "close")
  @ConditionalOnBooleanProperty(name = "modserv.http.enabled")
  public HttpAdapter modservHttpAdapter(ModelServer server, ModservProperties properties,
      ModservModels models, ObjectProvider<PrometheusMeterRegistry> prometheus) {
    ModservProperties.Http http = properties.getHttp();
    HttpAdapter.Builder b = HttpAdapter.builder(server)
        .port(http.getPort())
        .host(http.getHost())
        .maxBodyBytes(http.getMaxBodySize().toBytes())
        .gracePeriod(http.getGracePeriod())
        .dialects(http.getDialects().toArray(Dialect[]::new))
        .strictReadiness(properties.getReadiness().isStrict());
    if (http.getApiKey() != null) {
      b.apiKey(http.getApiKey());
    }
    try {
      b.selectorSpin(http.getSelectorSpin());
    } catch (IllegalArgumentException e) {   // the builder holds the bounds; name the property
      throw new IllegalStateException("modserv.http.selector-spin: " + e.getMessage(), e);
    }
    if (http.getSelectors() != null) {
      try {
        b.selectors(http.getSelectors());
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException("modserv.http.selectors: " + e.getMessage(), e);
      }
    }
    List<String> required = properties.getReadiness().getRequiredModels();
    (required != null ? required : models.names()).forEach(b::requireModel);
    // /metrics shows the application's Prometheus registry when it has one.
    prometheus.ifAvailable(b::meterRegistry);
    HttpAdapter adapter = b.build();
    adapter.start();
    return adapter;
  }

  /**
   * The names of the models the properties serve, in order.
   *
   * @param names the model names
   */
  public record ModservModels(List<String> names) {
    /** Copies the names. */
    public ModservModels {
      names = List.copyOf(names);
    }
  }
}
