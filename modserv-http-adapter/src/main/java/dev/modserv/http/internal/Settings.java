package dev.modserv.http.internal;

import dev.modserv.core.ModelServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * What the router needs, fixed when the adapter is built.
 *
 * @param server the model server every dialect calls
 * @param apiKeyHash SHA-256 of the API key, or null when no key is required
 * @param maxBodyBytes the largest request body taken
 * @param corsOrigins origins allowed cross-origin ({@code *} for any); empty for none
 * @param modelRoot the real path of the management API's model root, or null when it is off
 * @param readiness whether the adapter is ready ({@code /ready})
 * @param registry where HTTP meters go (the JSON summary of {@code /metrics} reads it)
 * @param prometheus what {@code /metrics} scrapes: {@code registry}, or a registry it holds
 * @param observations where requests are observed (traced); the no-op registry for none
 * @param timers the HTTP request timers, registered in {@code registry}
 * @param calls how routes call the model server
 * @param accepting false once shutdown began: readiness answers 503
 * @param version modserv's version, for health and server metadata
 * @param fit the node fit report's catalog and overrides
 */
public record Settings(
    ModelServer server,
    byte @Nullable [] apiKeyHash,
    long maxBodyBytes,
    Set<String> corsOrigins,
    @Nullable Path modelRoot,
    Readiness readiness,
    MeterRegistry registry,
    PrometheusMeterRegistry prometheus,
    ObservationRegistry observations,
    RequestTimers timers,
    ModelCalls calls,
    AtomicBoolean accepting,
    String version,
    FitSettings fit) {}
