package dev.modserv.spring;

import dev.modserv.http.Dialect;
import dev.modserv.http.HttpAdapter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * The {@code modserv.*} properties: the models to serve and how, the server's budget and caches,
 * readiness, and where the REST routes are served. Every property and its default is listed in
 * {@code docs/spring-boot.md}; an unset optional one keeps modserv's own default.
 */
@ConfigurationProperties("modserv")
public class ModservProperties {
  /** Whether the starter configures a ModelServer at all. */
  private boolean enabled = true;

  /**
   * A model repository folder, {@code <root>/<model>/<version>/<artifact>}: every version folder
   * (a whole number) of every model is loaded at start; settings under {@code modserv.models.<model>}
   * apply to it.
   */
  private @Nullable Path repository;

  /** The models to serve, by name. */
  private Map<String, Model> models = new LinkedHashMap<>();

  /** The most native memory loaded models may take together (least recently idle ones are evicted); none by default. */
  private @Nullable DataSize maxLoadedMemory;

  /** The bound of the response cache, shared by the models that turn it on (0 turns it off). */
  private DataSize responseCacheSize = DataSize.ofMegabytes(64);

  /** The bound of the embedding cache, shared by the models that turn it on (0 turns it off). */
  private DataSize embeddingCacheSize = DataSize.ofMegabytes(64);

  /** The deadline of a request that gives none; none by default. */
  private @Nullable Duration defaultTimeout;

  /** Whether engines on the class path are found by ServiceLoader. */
  private boolean discoverBackends = true;

  private final Readiness readiness = new Readiness();
  private final Web web = new Web();
  private final Http http = new Http();

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public @Nullable Path getRepository() {
    return repository;
  }

  public void setRepository(@Nullable Path repository) {
    this.repository = repository;
  }

  public Map<String, Model> getModels() {
    return models;
  }

  public void setModels(Map<String, Model> models) {
    this.models = models;
  }

  public @Nullable DataSize getMaxLoadedMemory() {
    return maxLoadedMemory;
  }

  public void setMaxLoadedMemory(@Nullable DataSize maxLoadedMemory) {
    this.maxLoadedMemory = maxLoadedMemory;
  }

  public DataSize getResponseCacheSize() {
    return responseCacheSize;
  }

  public void setResponseCacheSize(DataSize responseCacheSize) {
    this.responseCacheSize = responseCacheSize;
  }

  public DataSize getEmbeddingCacheSize() {
    return embeddingCacheSize;
  }

  public void setEmbeddingCacheSize(DataSize embeddingCacheSize) {
    this.embeddingCacheSize = embeddingCacheSize;
  }

  public @Nullable Duration getDefaultTimeout() {
    return defaultTimeout;
  }

  public void setDefaultTimeout(@Nullable Duration defaultTimeout) {
    this.defaultTimeout = defaultTimeout;
  }

  public boolean isDiscoverBackends() {
    return discoverBackends;
  }

  public void setDiscoverBackends(boolean discoverBackends) {
    this.discoverBackends = discoverBackends;
  }

  public Readiness getReadiness() {
    return readiness;
  }

  public Web getWeb() {
    return web;
  }

  public Http getHttp() {
    return http;
  }

  /** One model: where it is and how it is served. */
  public static class Model {
    /** The model file or folder (.onnx, .gguf, a SavedModel folder); not needed for a model of the repository. */
    private @Nullable Path path;

    /** The version it is served as. */
    private long version = 1;

    /** Whether it loads on its first request instead of at start. */
    private boolean lazy;

    /** The engine that loads it (onnx, llama, tensorflow); found from the file by default. */
    private @Nullable String backend;

    /** Options passed to the engine as they are (llama: context-size, mode, ...). */
    private Map<String, String> engineOptions = new LinkedHashMap<>();

    /** The native memory it is counted for against max-loaded-memory; estimated from the file by default. */
    private @Nullable DataSize memory;

    /** How long it stays loaded while idle before it may be unloaded; for ever by default. */
    private @Nullable Duration keepAlive;

    /** Whether sample requests run before it becomes READY. */
    private boolean warmup = true;

    /** Whether its answers are kept in the response cache. */
    private boolean responseCache;

    /** Whether its embeddings are kept in the embedding cache. */
    private boolean embeddingCache;

    private final Batching batching = new Batching();

    public @Nullable Path getPath() {
      return path;
    }

    public void setPath(@Nullable Path path) {
      this.path = path;
    }

    public long getVersion() {
      return version;
    }

    public void setVersion(long version) {
      this.version = version;
    }

    public boolean isLazy() {
      return lazy;
    }

    public void setLazy(boolean lazy) {
      this.lazy = lazy;
    }

    public @Nullable String getBackend() {
      return backend;
    }

    public void setBackend(@Nullable String backend) {
      this.backend = backend;
    }

    public Map<String, String> getEngineOptions() {
      return engineOptions;
    }

    public void setEngineOptions(Map<String, String> engineOptions) {
      this.engineOptions = engineOptions;
    }

    public @Nullable DataSize getMemory() {
      return memory;
    }

    public void setMemory(@Nullable DataSize memory) {
      this.memory = memory;
    }

    public @Nullable Duration getKeepAlive() {
      return keepAlive;
    }

    public void setKeepAlive(@Nullable Duration keepAlive) {
      this.keepAlive = keepAlive;
    }

    public boolean isWarmup() {
      return warmup;
    }

    public void setWarmup(boolean warmup) {
      this.warmup = warmup;
    }

    public boolean isResponseCache() {
      return responseCache;
    }

    public void setResponseCache(boolean responseCache) {
      this.responseCache = responseCache;
    }

    public boolean isEmbeddingCache() {
      return embeddingCache;
    }

    public void setEmbeddingCache(boolean embeddingCache) {
      this.embeddingCache = embeddingCache;
    }

    public Batching getBatching() {
      return batching;
    }
  }

  /** A model's dynamic batching ({@code docs/batching.md}). */
  public static class Batching {
    /** The most rows in one batch. */
    private int maxBatchSize = 32;

    /** Batch sizes that go at once, without waiting out max-queue-delay; none by default. */
    private List<Integer> preferredBatchSizes = new ArrayList<>();

    /** How long the oldest request waits for its batch to fill. */
    private Duration maxQueueDelay = Duration.ZERO;

    /** The most requests queued; one more is refused with QUEUE_FULL (503). */
    private int maxQueueSize = 1024;

    /** How many batches of this model run at once; unset, as many as its engine can. */
    private @Nullable Integer instances;

    /** The deadline of this model's requests that give none; none by default. */
    private @Nullable Duration defaultTimeout;

    public int getMaxBatchSize() {
      return maxBatchSize;
    }

    public void setMaxBatchSize(int maxBatchSize) {
      this.maxBatchSize = maxBatchSize;
    }

    public List<Integer> getPreferredBatchSizes() {
      return preferredBatchSizes;
    }

    public void setPreferredBatchSizes(List<Integer> preferredBatchSizes) {
      this.preferredBatchSizes = preferredBatchSizes;
    }

    public Duration getMaxQueueDelay() {
      return maxQueueDelay;
    }

    public void setMaxQueueDelay(Duration maxQueueDelay) {
      this.maxQueueDelay = maxQueueDelay;
    }

    public int getMaxQueueSize() {
      return maxQueueSize;
    }

    public void setMaxQueueSize(int maxQueueSize) {
      this.maxQueueSize = maxQueueSize;
    }

    public @Nullable Integer getInstances() {
      return instances;
    }

    public void setInstances(@Nullable Integer instances) {
      this.instances = instances;
    }

    public @Nullable Duration getDefaultTimeout() {
      return defaultTimeout;
    }

    public void setDefaultTimeout(@Nullable Duration defaultTimeout) {
      this.defaultTimeout = defaultTimeout;
    }
  }

  /** What the modserv health indicator (and so the readiness group) waits for. */
  public static class Readiness {
    /** The models readiness waits for; every model named under modserv.models (and in the repository) by default. */
    private @Nullable List<String> requiredModels;

    /** Whether a required model whose load failed keeps readiness down. */
    private boolean strict = true;

    /** Whether the modserv indicator joins the readiness health group (with readinessState) unless that group is configured. */
    private boolean group = true;

    public @Nullable List<String> getRequiredModels() {
      return requiredModels;
    }

    public void setRequiredModels(@Nullable List<String> requiredModels) {
      this.requiredModels = requiredModels;
    }

    public boolean isStrict() {
      return strict;
    }

    public void setStrict(boolean strict) {
      this.strict = strict;
    }

    public boolean isGroup() {
      return group;
    }

    public void setGroup(boolean group) {
      this.group = group;
    }
  }

  /** The REST routes on the application's own web server (Spring MVC or WebFlux). */
  public static class Web {
    /** Whether the routes are served on the application's web server. */
    private boolean enabled = true;

    /** A path the routes are served under ({@code /models} gives {@code /models/v2/...}); none by default. */
    private String basePath = "";

    /** The dialects served: native, oip, openai, ollama. */
    private Set<Dialect> dialects = EnumSet.of(Dialect.NATIVE, Dialect.OIP, Dialect.OPENAI);

    /** The largest request body taken; larger ones get 413. */
    private DataSize maxBodySize = DataSize.ofMegabytes(16);

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getBasePath() {
      return basePath;
    }

    public void setBasePath(String basePath) {
      this.basePath = basePath;
    }

    public Set<Dialect> getDialects() {
      return dialects;
    }

    public void setDialects(Set<Dialect> dialects) {
      this.dialects = dialects;
    }

    public DataSize getMaxBodySize() {
      return maxBodySize;
    }

    public void setMaxBodySize(DataSize maxBodySize) {
      this.maxBodySize = maxBodySize;
    }
  }

  /** modserv's own HTTP server (HttpAdapter) on a second port, as a management port is. */
  public static class Http {
    /** Whether the HttpAdapter serves on a port of its own. */
    private boolean enabled;

    /** Its TCP port (0 for any free one). */
    private int port = 8081;

    /** The address it binds. */
    private String host = "127.0.0.1";

    /** A bearer API key every route but liveness and readiness requires; none by default. */
    private @Nullable String apiKey;

    /** The dialects served (all by default; management needs a model root). */
    private Set<Dialect> dialects = EnumSet.allOf(Dialect.class);

    /** The largest request body taken; larger ones get 413. */
    private DataSize maxBodySize = DataSize.ofMegabytes(16);

    /** How long close waits for requests in flight. */
    private Duration gracePeriod = Duration.ofSeconds(30);

    /**
     * How long a selector thread polls for the next request before it sleeps, after a short wait
     * (0 turns polling off).
     */
    private Duration selectorSpin =
        Duration.ofNanos(HttpAdapter.DEFAULT_SELECTOR_SPIN_MICROS * 1000);

    /** Selector threads of its listener; unset, half the cores (at least one). */
    private @Nullable Integer selectors;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public int getPort() {
      return port;
    }

    public void setPort(int port) {
      this.port = port;
    }

    public String getHost() {
      return host;
    }

    public void setHost(String host) {
      this.host = host;
    }

    public @Nullable String getApiKey() {
      return apiKey;
    }

    public void setApiKey(@Nullable String apiKey) {
      this.apiKey = apiKey;
    }

    public Set<Dialect> getDialects() {
      return dialects;
    }

    public void setDialects(Set<Dialect> dialects) {
      this.dialects = dialects;
    }

    public DataSize getMaxBodySize() {
      return maxBodySize;
    }

    public void setMaxBodySize(DataSize maxBodySize) {
      this.maxBodySize = maxBodySize;
    }

    public Duration getGracePeriod() {
      return gracePeriod;
    }

    public void setGracePeriod(Duration gracePeriod) {
      this.gracePeriod = gracePeriod;
    }

    public Duration getSelectorSpin() {
      return selectorSpin;
    }

    public void setSelectorSpin(Duration selectorSpin) {
      this.selectorSpin = selectorSpin;
    }

    public @Nullable Integer getSelectors() {
      return selectors;
    }

    public void setSelectors(@Nullable Integer selectors) {
      this.selectors = selectors;
    }
  }
}
