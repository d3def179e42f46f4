package dev.modserv.http;

import dev.modserv.core.ModelServer;
import dev.modserv.http.internal.FitSettings;
import dev.modserv.http.internal.ModelCalls;
import dev.modserv.http.internal.Readiness;
import dev.modserv.http.internal.RequestTimers;
import dev.modserv.http.internal.Router;
import dev.modserv.http.internal.Settings;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * The adapter's routes for a web server of the application's own (Spring MVC, Spring WebFlux, a
 * servlet): the host registers {@link #endpoints()} with its server, and hands each request they
 * match to {@link #serve} as a {@link HostExchange}. Requests are parsed and answered exactly as
 * {@link HttpAdapter} answers them (the same JSON, errors, streaming and {@code
 * modserv.http.requests} timers), so a client sees one dialect whichever server it calls.
 *
 * <p>What belongs to a server stays with the host's: TLS, authentication (no API key here),
 * CORS, graceful shutdown, access logs, health and metrics endpoints. So only the dialects that
 * serve models are offered: {@link Dialect#NATIVE}, {@link Dialect#OIP} (without its repository
 * extension), {@link Dialect#OPENAI} and {@link Dialect#OLLAMA}.
 */
public final class HostedRoutes {
  /** The dialects a host may serve. */
  public static final Set<Dialect> HOSTABLE =
      Set.copyOf(EnumSet.of(Dialect.NATIVE, Dialect.OIP, Dialect.OPENAI, Dialect.OLLAMA));

  private final Router router;

  /**
   * One route as a host registers it: the method and the path template, whose {@code {name}}
   * segments match any one non-empty segment (as Spring's path patterns read them).
   */
  public record Endpoint(String method, String path) {}

  private HostedRoutes(Builder b) {
    MeterRegistry meters = b.registry != null ? b.registry : new SimpleMeterRegistry();
    AtomicBoolean accepting = new AtomicBoolean(true);
    // No operations routes here: the Prometheus registry and readiness only fill the settings.
    Settings settings = new Settings(b.server, null, b.maxBodyBytes, Set.of(), null,
        new Readiness(dev.modserv.core.Readiness.of(b.server.registry(), List.of(), false),
            accepting),
        meters, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
        // A host observes (traces) its own requests; the model server's spans join them.
        ObservationRegistry.NOOP, new RequestTimers(meters),
        new ModelCalls(b.server), accepting, HttpAdapter.version(), FitSettings.DEFAULTS);
    this.router = new Router(settings, HttpAdapter.dialectRoutes(settings, b.dialects),
        Duration.ofSeconds(60));
  }

  /** Returns a builder of routes over {@code server}. */
  public static Builder builder(ModelServer server) {
    return new Builder(Objects.requireNonNull(server, "server"));
  }

  /** Returns the routes to register with the host's server, in the order they match. */
  public List<Endpoint> endpoints() {
    return router.table().stream().map(e -> new Endpoint(e.getKey(), e.getValue())).toList();
  }

  /**
   * Answers {@code exchange}: now, or later from another thread. Runs the route on the calling
   * thread, which it does not block for long (a model call that could wait is queued), so an
   * event-loop thread may call it. A path no route takes is answered 404, another method 405.
   */
  public void serve(HostExchange exchange) {
    router.serve(exchange);
  }

  /** Options of {@link HostedRoutes}; each may be set once. */
  public static final class Builder {
    private final ModelServer server;
    private final Set<Dialect> dialects =
        EnumSet.of(Dialect.NATIVE, Dialect.OIP, Dialect.OPENAI);
    private boolean dialectsSet;
    private long maxBodyBytes = 16L << 20;
    private boolean maxBodySet;
    private @Nullable MeterRegistry registry;

    private Builder(ModelServer server) {
      this.server = server;
    }

    /**
     * Serves these dialects, of {@link #HOSTABLE}; defaults to native, OIP and OpenAI (Ollama's
     * {@code GET /} would take the application's root page).
     *
     * @throws IllegalArgumentException for none, or one a host cannot serve
     */
    public Builder dialects(Set<Dialect> served) {
      if (dialectsSet) {
        throw new IllegalStateException("dialects was already set");
      }
      if (served.isEmpty() || !HOSTABLE.containsAll(served)) {
        throw new IllegalArgumentException("a host serves one or more of " + HOSTABLE + ": "
            + served);
      }
      dialects.clear();
      dialects.addAll(served);
      dialectsSet = true;
      return this;
    }

    /** The largest request body taken (after decompression); larger ones get 413. Defaults to 16 MiB. */
    public Builder maxBodyBytes(long bytes) {
      if (maxBodySet) {
        throw new IllegalStateException("maxBodyBytes was already set");
      }
      if (bytes < 1 || bytes > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("maxBodyBytes must be in 1.." + (Integer.MAX_VALUE - 8)
            + ": " + bytes);
      }
      this.maxBodyBytes = bytes;
      this.maxBodySet = true;
      return this;
    }

    /** Where the {@code modserv.http.requests} timers go; defaults to a registry of their own. */
    public Builder meterRegistry(MeterRegistry registry) {
      if (this.registry != null) {
        throw new IllegalStateException("meterRegistry was already set");
      }
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** Builds the routes. */
    public HostedRoutes build() {
      return new HostedRoutes(this);
    }
  }
}
