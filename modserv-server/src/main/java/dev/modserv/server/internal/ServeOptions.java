package dev.modserv.server.internal;

import dev.modserv.http.HttpAdapter;
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
 * @param models model files or folders served as they are ({@code --model}), each as version 1
 * @param fit the node fit report's catalog and overrides ({@code --fit-*})
 * @param selectorSpin how long an HTTP selector polls before it sleeps ({@code --selector-spin})
 * @param selectors selector threads of each HTTP connector ({@code --selectors}); 0 for the
 *     adapter's default, half the cores
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
    @Nullable Grpc grpc,
    List<DirectModel> models,
    Fit fit,
    Duration selectorSpin,
    int selectors) {

  /** The default of {@code --selector-spin}. */
  public static final Duration DEFAULT_SELECTOR_SPIN =
      Duration.ofNanos(HttpAdapter.DEFAULT_SELECTOR_SPIN_MICROS * 1000);

  /** Options without the node fit report's. */
  public ServeOptions(@Nullable Path repository, String host, int port, @Nullable Path socket,
      @Nullable Path apiKeyFile, Duration pollInterval, Path cacheDir, long progressThreshold,
      long maxLoadedBytes, Duration gracePeriod, @Nullable Duration requestTimeout,
      long maxBodyBytes, List<String> corsOrigins, long responseCacheBytes,
      long embeddingCacheBytes, boolean strictReadiness, @Nullable Grpc grpc,
      List<DirectModel> models) {
    this(repository, host, port, socket, apiKeyFile, pollInterval, cacheDir, progressThreshold,
        maxLoadedBytes, gracePeriod, requestTimeout, maxBodyBytes, corsOrigins, responseCacheBytes,
        embeddingCacheBytes, strictReadiness, grpc, models, Fit.NONE, DEFAULT_SELECTOR_SPIN, 0);
  }

  /**
   * The node fit report's options.
   *
   * @param catalog a YAML file of candidate models ({@code --fit-catalog}); null for none
   * @param memoryBytes the memory models are rated against ({@code --fit-memory}); -1 for what is
   *     available
   * @param maxContext the most context tokens a cache is sized for ({@code --fit-max-context}); 0
   *     for each model's own
   */
  public record Fit(@Nullable Path catalog, long memoryBytes, int maxContext) {
    /** No catalog, no overrides. */
    public static final Fit NONE = new Fit(null, -1, 0);
  }

  /** Options without {@code --model}. */
  public ServeOptions(@Nullable Path repository, String host, int port, @Nullable Path socket,
      @Nullable Path apiKeyFile, Duration pollInterval, Path cacheDir, long progressThreshold,
      long maxLoadedBytes, Duration gracePeriod, @Nullable Duration requestTimeout,
      long maxBodyBytes, List<String> corsOrigins, long responseCacheBytes,
      long embeddingCacheBytes, boolean strictReadiness, @Nullable Grpc grpc) {
    this(repository, host, port, socket, apiKeyFile, pollInterval, cacheDir, progressThreshold,
        maxLoadedBytes, gracePeriod, requestTimeout, maxBodyBytes, corsOrigins, responseCacheBytes,
        embeddingCacheBytes, strictReadiness, grpc, List.of());
  }

  /**
   * A model file or folder served without a repository ({@code --model [NAME=]PATH}).
   *
   * @param name the model's name
   * @param path the file (a {@code .gguf}, an {@code .onnx}) or folder (a SavedModel)
   */
  public record DirectModel(String name, Path path) {
    /**
     * Reads {@code NAME=PATH} or {@code PATH}; without a name, the file's name less its
     * extension, made a valid model name ({@code Qwen2 0.5B.gguf} → {@code Qwen2-0.5B}).
     *
     * @throws IllegalArgumentException when the name is not a valid model name
     */
    public static DirectModel parse(String text) {
      int eq = text.indexOf('=');
      if (eq > 0 && !text.substring(0, eq).contains("/") && !text.substring(0, eq)
          .contains(java.io.File.separator)) {
        String name = text.substring(0, eq);
        try {
          dev.modserv.api.ModelRef.requireName(name);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("--model " + text + ": " + e.getMessage(), e);
        }
        return new DirectModel(name, Path.of(text.substring(eq + 1)));
      }
      Path path = Path.of(text);
      return new DirectModel(nameOf(path), path);
    }

    /** The file's base name as a model name. */
    static String nameOf(Path path) {
      Path file = path.toAbsolutePath().normalize().getFileName();
      String base = file == null ? "" : file.toString();
      int dot = base.lastIndexOf('.');
      if (dot > 0) {
        base = base.substring(0, dot);
      }
      String name = base.replaceAll("[^A-Za-z0-9._-]+", "-").replaceFirst("^[^A-Za-z0-9]+", "");
      name = name.length() > 128 ? name.substring(0, 128) : name;
      return name.isEmpty() ? "model" : name;
    }
  }

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
    models = List.copyOf(models);
  }
}
