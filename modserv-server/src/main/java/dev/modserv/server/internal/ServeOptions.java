package dev.modserv.server.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What {@code modserv serve} was asked for; see {@link ServeCommand} for each option's default.
 *
 * @param repository the model repository folder; null serves the default model
 * @param host the address the TCP connector binds
 * @param port the TCP port; 0 picks a free one, -1 listens on the socket only
 * @param socket a Unix domain socket to listen on as well; null for none
 * @param apiKeyFile a file holding the API key; null for no key
 * @param pollInterval how often the repository is polled; zero for never
 * @param cacheDir where the default model is copied
 * @param progressThreshold artifacts from this size on show reading progress
 * @param maxLoadedBytes the loaded models' memory budget; -1 for none
 * @param gracePeriod how long shutdown waits for requests in flight
 * @param requestTimeout each model call's deadline; null for none
 * @param maxBodyBytes the largest request body; -1 for the adapter's default
 * @param corsOrigins origins allowed cross-origin requests
 * @param responseCacheBytes the response cache's bound, for models that turn it on; 0 for none
 * @param embeddingCacheBytes the bound of the embedding cache of all models together
 * @param strictReadiness whether a required model whose load FAILED keeps readiness at 503
 * @param grpc the gRPC listeners; null serves no gRPC
 */
public record ServeOptions(
    @Nullable Path repository,
    String host,
    int port,
    @Nullable Path socket,
    @Nullable Path apiKeyFile,
    Duration pollInterval,
    Path cacheDir,
    long progressThreshold,
    long maxLoadedBytes,
    Duration gracePeriod,
    @Nullable Duration requestTimeout,
    long maxBodyBytes,
    List<String> corsOrigins,
    long responseCacheBytes,
    long embeddingCacheBytes,
    boolean strictReadiness,
    @Nullable Grpc grpc) {

  /**
   * Where gRPC is served ({@code --grpc-port}, {@code --grpc-socket}).
   *
   * @param port the TCP port; 0 picks a free one, -1 listens on the socket only
   * @param socket a Unix domain socket to listen on as well; null for none
   */
  public record Grpc(int port, @Nullable Path socket) {}

  /** Copies the list. */
  public ServeOptions {
    corsOrigins = List.copyOf(corsOrigins);
  }
}
