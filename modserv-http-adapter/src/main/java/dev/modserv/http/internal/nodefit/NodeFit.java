package dev.modserv.http.internal.nodefit;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelRef;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.MemoryEstimate;
import dev.modserv.core.ModelConfig;
import dev.modserv.core.ModelServer;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.http.FitCandidate;
import dev.modserv.http.internal.ClientText;
import dev.modserv.http.internal.DialectRoutes;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.FitSettings;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.Names;
import dev.modserv.http.internal.Routes;
import dev.modserv.http.internal.Settings;
import dev.modserv.spi.ModelSource;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;
import org.jspecify.annotations.Nullable;

/**
 * The node fit report, for cluster schedulers (as llmfit's serve mode gives): {@code GET
 * /api/v1/system} describes this node (CPU, memory, GPUs with their memory, and which engines can
 * use a GPU); {@code GET /api/v1/models}, {@code /api/v1/models/top} and {@code
 * /api/v1/models/{name}} rate every model this server knows (registered or loaded), every model
 * folder in its model root (loaded or not) and every catalog entry, each by the memory its engine
 * estimates from its files, against the memory this node has for it. {@code docs/node-fit.md}
 * states the estimates, the levels and the score.
 *
 * <p>Fit levels, from the share {@code u} of the memory a model would take: {@code perfect} u
 * &lt;= 0.50, {@code good} u &lt;= 0.75, {@code marginal} u &lt;= 0.90, {@code too_tight} above;
 * {@code unknown} when there is no estimate. The score (0 to 100) prefers the model that uses the
 * node best: 100 × u / 0.5 up to u = 0.5, then falling to 0 at u = 1; 0 when too tight.
 */
public record NodeFit(Settings settings) implements DialectRoutes {
  /** Fit levels, best first. */
  enum Fit {
    PERFECT(0.50),
    GOOD(0.75),
    MARGINAL(0.90),
    TOO_TIGHT(Double.POSITIVE_INFINITY),
    UNKNOWN(Double.NaN);

    final double upTo;

    Fit(double upTo) {
      this.upTo = upTo;
    }

    String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    static Fit of(double utilization) {
      for (Fit f : values()) {
        if (utilization <= f.upTo) {
          return f;
        }
      }
      return TOO_TIGHT;
    }
  }

  private static final int DEFAULT_TOP = 5;
  private static final int MAX_LIMIT = 100_000;
  /** The most model folders read from the model root: the walk is bounded. */
  private static final int MAX_MODEL_FOLDERS = 10_000;
  private static final String FITS = "perfect|good|marginal|too_tight";
  private static final String SORTS = "score|fit|memory|name";
  private static final Path PROC_NVIDIA = Path.of("/proc/driver/nvidia");

  @Override
  public void register(Routes routes) {
    // /proc reads, nvidia-smi and file headers: off the I/O thread.
    routes.get("/api/v1/system", this::system).blocking();
    routes.get("/api/v1/models", this::models).blocking();
    routes.get("/api/v1/models/top", this::top).blocking();
    routes.get("/api/v1/models/{name}", this::model).blocking();
  }

  /** Memory of this node, in bytes, and where the figures came from. */
  record Memory(long total, long available, String source) {}

  /** Reads /proc/meminfo (capped by a cgroup v2 limit), else the OperatingSystemMXBean. */
  static Memory memory() {
    long total = -1;
    long available = -1;
    String source = "proc_meminfo";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          total = kib(line);
        } else if (line.startsWith("MemAvailable:")) {
          available = kib(line);
        }
      }
    } catch (IOException | RuntimeException e) {
      total = -1;
    }
    if (total <= 0 || available < 0) {
      source = "os_mxbean";
      var os = ManagementFactory.getOperatingSystemMXBean();
      if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
        total = sun.getTotalMemorySize();
        available = sun.getFreeMemorySize();
      } else {
        total = Runtime.getRuntime().maxMemory();
        available = total - (Runtime.getRuntime().totalMemory() - Runtime.getRuntime()
            .freeMemory());
        source = "jvm_heap";
      }
      return new Memory(total, available, source);
    }
    long limit = cgroup("memory.max");
    if (limit > 0 && limit < total) {
      long used = Math.max(0, cgroup("memory.current"));
      total = limit;
      available = Math.max(0, Math.min(available, limit - used));
      source = "cgroup";
    }
    return new Memory(total, available, source);
  }

  private static long kib(String line) {
    String[] parts = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
    return Long.parseLong(parts[0]) * 1024;
  }

  private static long cgroup(String file) {
    try {
      String v = Files.readString(Path.of("/sys/fs/cgroup", file)).trim();
      return v.equals("max") ? -1 : Long.parseLong(v);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The node's name: NODE_NAME (Kubernetes' downward API), HOSTNAME, else the kernel's. */
  static String nodeName() {
    for (String env : new String[] {"NODE_NAME", "HOSTNAME"}) {
      String v = System.getenv(env);
      if (v != null && !v.isBlank()) {
        return v.trim();
      }
    }
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8).trim();
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /** The CPU's model name from /proc/cpuinfo, else the architecture. */
  static String cpuModel() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
      Optional<String> model = lines.filter(l -> l.startsWith("model name")
          || l.startsWith("Model") || l.startsWith("cpu model")).findFirst()
          .map(l -> l.substring(l.indexOf(':') + 1).trim());
      if (model.isPresent() && !model.get().isEmpty()) {
        return model.get();
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux, or not readable: the architecture says something.
    }
    return System.getProperty("os.arch", "unknown");
  }

  /** What the node has: memory now, its GPUs, and the settings that override them. */
  record Node(Memory memory, List<Gpus.Gpu> gpus) {}

  static Node node() {
    return new Node(memory(), Gpus.detect(System.getenv(), PROC_NVIDIA));
  }

  private void writeNode(JsonGenerator g) throws IOException {
    g.writeObjectFieldStart("node");
    g.writeStringField("name", nodeName());
    g.writeStringField("os", System.getProperty("os.name", "unknown"));
    g.writeStringField("os_version", System.getProperty("os.version", "unknown"));
    g.writeStringField("arch", System.getProperty("os.arch", "unknown"));
    g.writeStringField("modserv_version", settings.version());
    g.writeEndObject();
  }

  private void writeSystem(JsonGenerator g, Node node) throws IOException {
    Memory m = node.memory();
    g.writeObjectFieldStart("system");
    g.writeStringField("cpu_model", cpuModel());
    g.writeNumberField("cpu_cores", Runtime.getRuntime().availableProcessors());
    g.writeNumberField("total_memory_bytes", m.total());
    g.writeNumberField("available_memory_bytes", m.available());
    g.writeStringField("memory_source", m.source());
    g.writeNumberField("jvm_max_heap_bytes", Runtime.getRuntime().maxMemory());
    g.writeArrayFieldStart("gpus");
    for (Gpus.Gpu gpu : node.gpus()) {
      g.writeStartObject();
      g.writeNumberField("index", gpu.index());
      g.writeStringField("name", gpu.name());
      g.writeStringField("vendor", gpu.vendor());
      writeBytes(g, "memory_total_bytes", gpu.memoryTotalBytes());
      writeBytes(g, "memory_free_bytes", gpu.memoryFreeBytes());
      if (gpu.driverVersion().isEmpty()) {
        g.writeNullField("driver_version");
      } else {
        g.writeStringField("driver_version", gpu.driverVersion());
      }
      g.writeStringField("source", gpu.source());
      g.writeEndObject();
    }
    g.writeEndArray();
    // A GPU counts for a model only when its engine, as built, can use one.
    g.writeArrayFieldStart("engines");
    ModelServer server = settings.server();
    for (String engine : server.backends()) {
      g.writeStartObject();
      g.writeStringField("name", engine);
      g.writeBooleanField("uses_gpu", server.backendUsesGpu(engine));
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static void writeBytes(JsonGenerator g, String field, long bytes) throws IOException {
    if (bytes < 0) {
      g.writeNullField(field);
    } else {
      g.writeNumberField(field, bytes);
    }
  }

  void system(Exchange ex) {
    Node node = node();
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      writeNode(g);
      writeSystem(g, node);
      g.writeEndObject();
    }));
  }

  /**
   * One model's row of the report.
   *
   * @param source {@code registered} (this server holds it), {@code repository} (a folder of the
   *     model root, not registered) or {@code catalog}
   * @param estimate {@code declared}, {@code estimated} (by its engine, from its files or its
   *     published figures), {@code published} (figures alone: the engine is not here) or {@code
   *     unknown}
   */
  record Row(String name, String source, String engine, List<Long> versions, String state,
      boolean loaded, List<String> useCases, @Nullable FitCandidate facts, long artifactBytes,
      long required, String estimate, long capacity, String runMode, double utilization, Fit fit,
      int score) {}

  /** What is known of one model name before it is rated. */
  private static final class Seen {
    final List<ModelStatus> statuses = new ArrayList<>();
    final TreeMap<Long, Path> onDisk = new TreeMap<>();
  }

  /** Rates every model this server knows, every folder of the model root and the catalog. */
  List<Row> rows(Node node) {
    ModelServer server = settings.server();
    FitSettings fit = settings.fit();
    Map<String, Seen> byName = new LinkedHashMap<>();
    for (ModelStatus s : server.registry().models()) {
      byName.computeIfAbsent(s.name(), k -> new Seen()).statuses.add(s);
    }
    for (ModelStatus s : server.registry().registered()) {
      byName.computeIfAbsent(s.name(), k -> new Seen()).statuses.add(s);
    }
    Path root = settings.modelRoot();
    if (root != null) {
      repository(root).forEach((name, versions) ->
          byName.computeIfAbsent(name, k -> new Seen()).onDisk.putAll(versions));
    }
    // Engines a model is loaded with already hold their once-per-process runtime.
    Set<String> running = new HashSet<>();
    for (ModelStatus s : server.registry().models()) {
      if (holding(s.state())) {
        s.metadata().ifPresent(md -> running.add(md.engine()));
      }
    }
    List<Row> rows = new ArrayList<>();
    for (var e : byName.entrySet()) {
      rows.add(modelRow(e.getKey(), e.getValue(), node, fit, running));
    }
    for (FitCandidate c : fit.catalog()) {
      rows.add(catalogRow(c, node, fit, running));
    }
    return rows;
  }

  private static boolean holding(ModelState state) {
    return state == ModelState.READY || state == ModelState.WARMING
        || state == ModelState.LOADING;
  }

  private Row modelRow(String name, Seen seen, Node node, FitSettings fit, Set<String> running) {
    ModelServer server = settings.server();
    List<ModelStatus> statuses = seen.statuses;
    statuses.sort(Comparator.comparingLong(ModelStatus::version));
    TreeSet<Long> versions = new TreeSet<>(seen.onDisk.keySet());
    statuses.forEach(s -> versions.add(s.version()));
    boolean loaded = statuses.stream().anyMatch(s -> holding(s.state()));
    long held = statuses.stream().filter(s -> s.state() != ModelState.UNLOADED
        && s.state() != ModelState.FAILED).mapToLong(ModelStatus::memoryBytes).sum();
    Optional<ModelStatus> best = statuses.stream().filter(s -> s.state() == ModelState.READY)
        .max(Comparator.comparingLong(ModelStatus::version))
        .or(() -> statuses.isEmpty() ? Optional.empty()
            : Optional.of(statuses.get(statuses.size() - 1)));
    Optional<ModelMetadata> metadata = statuses.stream().map(ModelStatus::metadata)
        .flatMap(Optional::stream).reduce((a, b) -> b);

    // The newest version as registered (with its engine options), else the newest on disk.
    Optional<MemoryEstimate> estimate = Optional.empty();
    long artifactBytes = -1;
    for (ModelStatus s : statuses.reversed()) {
      estimate = server.estimateMemory(name, s.version(), fit.maxContext());
      if (estimate.isPresent()) {
        break;
      }
    }
    if (!seen.onDisk.isEmpty()) {
      Path artifact = artifact(seen.onDisk.lastEntry().getValue());
      artifactBytes = bytes(artifact);
      if (estimate.isEmpty()) {
        estimate = server.estimateMemory(name, ModelSource.of(artifact), fit.maxContext());
      }
    }
    long required;
    String basis;
    String engine = metadata.map(ModelMetadata::engine).orElse("unknown");
    boolean gpu = false;
    if (estimate.isPresent() && estimate.get().modelBytes() > 0) {
      MemoryEstimate est = estimate.get();
      engine = est.engine();
      gpu = est.usesGpu();
      required = saturatedAdd(est.modelBytes(), running.contains(engine) ? 0
          : est.engineRuntimeBytes());
      basis = est.declared() ? "declared" : "estimated";
    } else {
      // What the engine reported once loaded; the largest version's, as one serves at a time.
      required = statuses.stream().mapToLong(ModelStatus::memoryBytes).max().orElse(0);
      basis = required > 0 ? "estimated" : "unknown";
    }
    String state = best.map(s -> s.state().name()).orElse("ON_DISK");
    List<String> useCases = useCases(server.registry().config(name), metadata, engine);
    return rate(name, statuses.isEmpty() ? "repository" : "registered", engine,
        List.copyOf(versions), state, loaded, useCases, null, artifactBytes, required, basis,
        loaded ? held : 0, gpu, node, fit);
  }

  private Row catalogRow(FitCandidate c, Node node, FitSettings fit, Set<String> running) {
    long context = fit.maxContext() > 0 ? Math.min(c.contextLength(), fit.maxContext())
        : c.contextLength();
    long weights = c.weightBytes();
    long cache = c.kvCacheBytes(context);
    Optional<MemoryEstimate> est =
        settings.server().estimatePublishedMemory(c.engine(), weights, cache);
    long required = est.map(e -> saturatedAdd(e.modelBytes(), running.contains(e.engine()) ? 0
        : e.engineRuntimeBytes())).orElse(saturatedAdd(weights, cache));
    return rate(c.name(), "catalog", c.engine(), List.of(), "NOT_HELD", false, c.useCases(), c,
        c.artifactBytes() > 0 ? c.artifactBytes() : -1, required,
        est.isPresent() ? "estimated" : "published", 0,
        est.map(MemoryEstimate::usesGpu).orElse(false), node, fit);
  }

  /**
   * The level and score of a model needing {@code required} bytes: against the override, else the
   * memory available now plus what the model holds already; on the largest GPU's free memory
   * when its engine can use a GPU and this node has one.
   */
  private static Row rate(String name, String source, String engine, List<Long> versions,
      String state, boolean loaded, List<String> useCases, @Nullable FitCandidate facts,
      long artifactBytes, long required, String basis, long held, boolean usesGpu, Node node,
      FitSettings fit) {
    long gpuFree = node.gpus().stream().mapToLong(Gpus.Gpu::memoryFreeBytes).max().orElse(-1);
    boolean onGpu = usesGpu && gpuFree > 0;
    long capacity = fit.memoryBytes() > 0 ? fit.memoryBytes()
        : onGpu ? gpuFree : saturatedAdd(Math.max(0, node.memory().available()), held);
    double u = required <= 0 ? Double.NaN : capacity <= 0 ? Double.POSITIVE_INFINITY
        : (double) required / capacity;
    Fit level = required <= 0 ? Fit.UNKNOWN : Fit.of(u);
    return new Row(name, source, engine, versions, state, loaded, useCases, facts, artifactBytes,
        required, basis, capacity, onGpu ? "gpu" : "cpu", u, level, score(level, u));
  }

  /** 100 × u / 0.5 up to u = 0.5, then down to 0 at u = 1; 0 when too tight, -1 unknown. */
  static int score(Fit level, double u) {
    if (level == Fit.UNKNOWN) {
      return -1;
    }
    if (level == Fit.TOO_TIGHT) {
      return 0;
    }
    double s = u <= 0.5 ? u / 0.5 : (1 - u) / 0.5;
    return (int) Math.round(100 * Math.max(0, Math.min(1, s)));
  }

  /** Declared use cases, else what the loaded model can do, else what its engine serves. */
  static List<String> useCases(ModelConfig config, Optional<ModelMetadata> metadata,
      String engine) {
    if (!config.useCases().isEmpty()) {
      return config.useCases();
    }
    if (metadata.isPresent()) {
      List<String> cases = new ArrayList<>();
      if (metadata.get().has(Capability.GENERATIVE)) {
        cases.add("chat");
      }
      if (metadata.get().has(Capability.EMBEDDING)) {
        cases.add("embedding");
      }
      if (metadata.get().has(Capability.TENSOR)) {
        cases.add("tensor");
      }
      return cases;
    }
    return switch (engine) {
      case "llama" -> List.of("chat");
      case "onnxruntime", "tensorflow" -> List.of("tensor");
      default -> List.of();
    };
  }

  /**
   * The model root's {@code <model>/<version>/} folders: valid model names, whole-number versions,
   * hidden entries and links out of the root left out.
   */
  static Map<String, Map<Long, Path>> repository(Path root) {
    Map<String, Map<Long, Path>> out = new TreeMap<>();
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path dir : dirs.limit(MAX_MODEL_FOLDERS).toList()) {
        String name = String.valueOf(dir.getFileName());
        if (name.startsWith(".") || !Files.isDirectory(dir) || !validName(name)
            || !inside(root, dir)) {
          continue;
        }
        Map<Long, Path> versions = new TreeMap<>();
        try (Stream<Path> entries = Files.list(dir)) {
          for (Path v : entries.limit(MAX_MODEL_FOLDERS).toList()) {
            long version = versionNumber(String.valueOf(v.getFileName()));
            if (version > 0 && Files.isDirectory(v) && inside(root, v)) {
              versions.put(version, v);
            }
          }
        }
        if (!versions.isEmpty()) {
          out.put(name, versions);
        }
      }
    } catch (IOException | RuntimeException e) {
      // An unreadable root reports what it could read.
    }
    return out;
  }

  private static boolean validName(String name) {
    try {
      ModelRef.requireName(name);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean inside(Path root, Path p) {
    try {
      return p.toRealPath().startsWith(root);
    } catch (IOException e) {
      return false;
    }
  }

  private static long versionNumber(String name) {
    if (name.isEmpty() || name.length() > 18 || !name.chars().allMatch(Character::isDigit)) {
      return -1;
    }
    return Long.parseLong(name);
  }

  /** A version folder's artifact: its only entry, else the folder (as the repository loads). */
  static Path artifact(Path versionDir) {
    try (Stream<Path> entries = Files.list(versionDir)) {
      List<Path> all = entries.filter(p -> !String.valueOf(p.getFileName()).startsWith("."))
          .limit(2).toList();
      if (all.size() == 1) {
        return all.get(0);
      }
    } catch (IOException e) {
      return versionDir;
    }
    return versionDir;
  }

  private static long bytes(Path artifact) {
    try {
      if (Files.isRegularFile(artifact)) {
        return Files.size(artifact);
      }
      try (Stream<Path> files = Files.walk(artifact)) {
        return files.limit(MAX_MODEL_FOLDERS).filter(Files::isRegularFile).mapToLong(f -> {
          try {
            return Files.size(f);
          } catch (IOException e) {
            return 0;
          }
        }).sum();
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }

  void models(Exchange ex) {
    report(ex, null, false);
  }

  void top(Exchange ex) {
    report(ex, null, true);
  }

  void model(Exchange ex) {
    report(ex, Names.model("name", ex.param("name")), false);
  }

  private void report(Exchange ex, @Nullable String name, boolean top) {
    Fields query;
    try {
      query = Request.extractQueryParameters(ex.request(), StandardCharsets.UTF_8);
    } catch (RuntimeException e) {
      throw new HttpError(400, "invalid query string: " + e.getMessage());
    }
    Integer limit = limit(query.getValue("limit"), top);
    Fit floor = minFit(query.getValue("min_fit"));
    String useCase = useCase(query.getValue("use_case"));
    String given = query.getValue("sort");
    String sort = given == null ? "score" : given.trim().toLowerCase(Locale.ROOT);
    Comparator<Row> order = order(sort, given);
    Node node = node();
    List<Row> all = rows(node);
    if (name != null) {
      all = all.stream().filter(r -> r.name().equals(name)).toList();
      if (all.isEmpty()) {
        throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "no model named '" + name
            + "' is registered, in the model root or in the catalog");
      }
    }
    int total = all.size();
    Stream<Row> rows = all.stream()
        .filter(r -> floor == null || (r.fit() != Fit.UNKNOWN && r.fit().ordinal()
            <= floor.ordinal()))
        .filter(r -> useCase == null || r.useCases().contains(useCase))
        .sorted(order);
    if (limit != null) {
      rows = rows.limit(limit);
    }
    List<Row> returned = rows.toList();
    FitSettings fit = settings.fit();
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      writeNode(g);
      writeSystem(g, node);
      g.writeNumberField("total_models", total);
      g.writeNumberField("returned_models", returned.size());
      g.writeObjectFieldStart("filters");
      writeNullable(g, "limit", limit);
      g.writeStringField("min_fit", floor == null ? null : floor.wire());
      g.writeStringField("sort", sort);
      g.writeStringField("use_case", useCase);
      writeNullable(g, "memory_bytes", fit.memoryBytes() > 0 ? fit.memoryBytes() : null);
      writeNullable(g, "max_context", fit.maxContext() > 0 ? (long) fit.maxContext() : null);
      if (name != null) {
        g.writeStringField("name", name);
      }
      g.writeEndObject();
      g.writeArrayFieldStart("models");
      for (Row r : returned) {
        writeRow(g, r);
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
  }

  private static void writeNullable(JsonGenerator g, String field, @Nullable Number n)
      throws IOException {
    if (n == null) {
      g.writeNullField(field);
    } else {
      g.writeNumberField(field, n.longValue());
    }
  }

  private static @Nullable Integer limit(@Nullable String text, boolean top) {
    if (text == null) {
      return top ? DEFAULT_TOP : null;
    }
    int limit;
    try {
      limit = Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new HttpError(400, "invalid limit value: " + ClientText.quote(text)
          + " is not a whole number from 1 to " + MAX_LIMIT);
    }
    return limit;
  }

  private static @Nullable Fit minFit(@Nullable String text) {
    if (text == null) {
      return null;
    }
    for (Fit f : Fit.values()) {
      if (f != Fit.UNKNOWN && f.wire().equals(text.trim().toLowerCase(Locale.ROOT))) {
        return f;
      }
    }
    throw new HttpError(400, "invalid min_fit value " + ClientText.quote(text) + ": use "
        + FITS);
  }

  private static @Nullable String useCase(@Nullable String text) {
    if (text == null) {
      return null;
    }
    String c = text.trim().toLowerCase(Locale.ROOT);
    if (!ModelConfig.USE_CASES.contains(c)) {
      throw new HttpError(400, "invalid use_case value " + ClientText.quote(text) + ": use "
          + String.join("|", ModelConfig.USE_CASES));
    }
    return c;
  }

  private static Comparator<Row> order(String sort, @Nullable String given) {
    Comparator<Row> byFit = Comparator.comparing((Row r) -> r.fit().ordinal())
        .thenComparingDouble(r -> Double.isNaN(r.utilization()) ? 0 : r.utilization())
        .thenComparing(Row::name);
    return switch (sort) {
      case "score" -> Comparator.comparingInt(Row::score).reversed().thenComparing(byFit);
      case "fit" -> byFit;
      case "name" -> Comparator.comparing(Row::name).thenComparing(Row::source);
      case "memory" -> Comparator.comparingLong(Row::required).reversed()
          .thenComparing(Row::name);
      default -> throw new HttpError(400, "invalid sort value " + ClientText.quote(
          given == null ? sort : given) + ": use " + SORTS);
    };
  }

  private static void writeRow(JsonGenerator g, Row r) throws IOException {
    g.writeStartObject();
    g.writeStringField("name", r.name());
    g.writeStringField("source", r.source());
    g.writeStringField("engine", r.engine());
    g.writeArrayFieldStart("versions");
    for (long v : r.versions()) {
      g.writeNumber(v);
    }
    g.writeEndArray();
    g.writeStringField("state", r.state());
    g.writeBooleanField("loaded", r.loaded());
    g.writeArrayFieldStart("use_cases");
    for (String c : r.useCases()) {
      g.writeString(c);
    }
    g.writeEndArray();
    FitCandidate facts = r.facts();
    if (facts != null) {
      writeBytes(g, "parameters", facts.parameters() > 0 ? facts.parameters() : -1);
      if (!facts.quantization().isEmpty()) {
        g.writeStringField("quantization", facts.quantization());
      }
      writeBytes(g, "context_length", facts.contextLength() > 0 ? facts.contextLength() : -1);
    }
    writeBytes(g, "artifact_bytes", r.artifactBytes());
    g.writeNumberField("memory_required_bytes", r.required());
    g.writeStringField("memory_estimate", r.estimate());
    g.writeNumberField("memory_available_bytes", r.capacity());
    g.writeStringField("run_mode", r.runMode());
    if (Double.isNaN(r.utilization()) || Double.isInfinite(r.utilization())) {
      g.writeNullField("utilization");
    } else {
      g.writeNumberField("utilization", r.utilization());
    }
    g.writeStringField("fit", r.fit().wire());
    if (r.score() < 0) {
      g.writeNullField("score");
    } else {
      g.writeNumberField("score", r.score());
    }
    g.writeEndObject();
  }
}
