package dev.modserv.server.internal;

import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The standalone server's tracing: off by default (a no-op observation registry, which costs
 * nothing), or Micrometer Observation bridged to OpenTelemetry with W3C {@code traceparent}
 * propagation and spans exported over OTLP/HTTP ({@code --otlp-endpoint}).
 */
public final class Telemetry implements AutoCloseable {
  /** No tracing. */
  public static final Telemetry OFF = new Telemetry(ObservationRegistry.NOOP, null);

  private final ObservationRegistry registry;
  private final @Nullable SdkTracerProvider provider;

  private Telemetry(ObservationRegistry registry, @Nullable SdkTracerProvider provider) {
    this.registry = registry;
    this.provider = provider;
  }

  /**
   * Exports spans to the OTLP/HTTP collector at {@code endpoint} ({@code
   * http://collector:4318/v1/traces}), in batches, as service {@code modserv}.
   *
   * @throws IllegalArgumentException when {@code endpoint} is not an http(s) URL
   */
  public static Telemetry otlp(String endpoint) {
    URI uri;
    try {
      uri = URI.create(endpoint);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--otlp-endpoint is not a URL: " + endpoint, e);
    }
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())
        || uri.getHost() == null) {
      throw new IllegalArgumentException("--otlp-endpoint must be an http or https URL, such as"
          + " http://localhost:4318/v1/traces: " + endpoint);
    }
    return of(BatchSpanProcessor.builder(OtlpHttpSpanExporter.builder()
        .setEndpoint(endpoint).build()).build());
  }

  /** Traces into {@code processor} (a test's in-memory exporter, say). */
  public static Telemetry of(SpanProcessor processor) {
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
            io.opentelemetry.api.common.AttributeKey.stringKey("service.name"), "modserv"))))
        .addSpanProcessor(processor).build();
    OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setTracerProvider(provider)
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
        .build();
    OtelCurrentTraceContext current = new OtelCurrentTraceContext();
    OtelTracer tracer = new OtelTracer(sdk.getTracer("dev.modserv"), current, event -> { });
    OtelPropagator propagator = new OtelPropagator(sdk.getPropagators(), sdk.getTracer(
        "dev.modserv"));
    ObservationRegistry registry = ObservationRegistry.create();
    registry.observationConfig().observationHandler(
        new ObservationHandler.FirstMatchingCompositeObservationHandler(
            new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
            new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
            new DefaultTracingObservationHandler(tracer)));
    return new Telemetry(registry, provider);
  }

  /** Returns the registry the model server and the adapters observe into. */
  public ObservationRegistry observationRegistry() {
    return registry;
  }

  /** Exports the spans still buffered (within 5 s) and stops. */
  @Override
  public void close() {
    if (provider != null) {
      provider.shutdown().join(5, TimeUnit.SECONDS);
    }
  }
}
