package dev.modserv.http.internal.nodefit;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.http.internal.DialectRoutes;
import dev.modserv.http.internal.Exchange;
import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.Names;
import dev.modserv.http.internal.Routes;
import dev.modserv.http.internal.Settings;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;
import org.jspecify.annotations.Nullable;

/**
 * The node fit report, for cluster schedulers (as llmfit's serve mode gives): {@code GET
 * /api/v1/system} describes this node; {@code GET /api/v1/models}, {@code /api/v1/models/top} and
 * {@code /api/v1/models/{name}} set each registered model's estimated memory against the memory
 * available.
 *
 * <p>Fit levels, from the share {@code u} of the memory a model would take: the model's estimate
 * over the memory available now (plus the model's own estimate when it is loaded, since it already
 * counts as used): {@code perfect} u &lt;= 0.50, {@code good} u &lt;= 0.75, {@code marginal} u
 * &lt;= 0.90, {@code too_tight} above; {@code unknown} when there is no estimate.
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



  @Override
  public void register(Routes routes) {
    // /proc reads: off the I/O thread.
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

  /** NVIDIA GPUs the driver lists under /proc; empty when none (or another vendor's). */
  static List<String> gpus() {
    List<String> out = new ArrayList<>();
    Path dir = Path.of("/proc/driver/nvidia/gpus");
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> cards = Files.list(dir)) {
      for (Path card : new TreeSet<>(cards.toList())) {
        String model = "NVIDIA GPU";
        try {
          for (String line : Files.readAllLines(card.resolve("information"))) {
            if (line.startsWith("Model:")) {
              model = line.substring(6).trim();
            }
          }
        } catch (IOException | RuntimeException e) {
          // Keep the generic name.
        }
        out.add(model);
      }
    } catch (IOException e) {
      return out;
    }
    return out;
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

  private static void writeSystem(JsonGenerator g, Memory m) throws IOException {
    g.writeObjectFieldStart("system");
    g.writeNumberField("cpu_cores", Runtime.getRuntime().availableProcessors());
    g.writeNumberField("total_memory_bytes", m.total());
    g.writeNumberField("available_memory_bytes", m.available());
    g.writeStringField("memory_source", m.source());
    g.writeNumberField("jvm_max_heap_bytes", Runtime.getRuntime().maxMemory());
    g.writeArrayFieldStart("gpus");
    List<String> gpus = gpus();
    for (int i = 0; i < gpus.size(); i++) {
      g.writeStartObject();
      g.writeNumberField("index", i);
      g.writeStringField("name", gpus.get(i));
      g.writeStringField("vendor", "nvidia");
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  void system(Exchange ex) {
    Memory m = memory();
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      writeNode(g);
      writeSystem(g, m);
      g.writeEndObject();
    }));
  }

  /** One model's row of the report. */
  record Row(String name, List<Long> versions, String state, boolean loaded, long required,
      String estimate, long capacity, double utilization, Fit fit) {}

  /** Builds a row per registered model name (loaded or registered to load on demand). */
  List<Row> rows(Memory m) {
    Map<String, List<ModelStatus>> byName = new LinkedHashMap<>();
    for (ModelStatus s : settings.server().registry().models()) {
      byName.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(s);
    }
    for (ModelStatus s : settings.server().registry().registered()) {
      byName.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(s);
    }
    List<Row> rows = new ArrayList<>();
    for (var e : byName.entrySet()) {
      List<ModelStatus> versions = e.getValue();
      versions.sort(Comparator.comparingLong(ModelStatus::version));
      ModelStatus best = versions.stream().filter(s -> s.state() == ModelState.READY)
          .max(Comparator.comparingLong(ModelStatus::version))
          .orElse(versions.get(versions.size() - 1));
      long declared = settings.server().registry().config(e.getKey()).memoryBytes();
      // One version serving: the largest estimate of its versions.
      long reported = versions.stream().mapToLong(ModelStatus::memoryBytes).max().orElse(0);
      long required = declared > 0 ? declared : reported;
      String estimate = declared > 0 ? "declared" : reported > 0 ? "estimated" : "unknown";
      boolean loaded = versions.stream().anyMatch(s -> s.state() == ModelState.READY
          || s.state() == ModelState.WARMING || s.state() == ModelState.LOADING);
      long held = versions.stream().filter(s -> s.state() != ModelState.UNLOADED
          && s.state() != ModelState.FAILED).mapToLong(ModelStatus::memoryBytes).sum();
      long capacity = Math.max(0, m.available()) + (loaded ? held : 0);
      double u = required <= 0 ? Double.NaN : capacity <= 0 ? Double.POSITIVE_INFINITY
          : (double) required / capacity;
      Fit fit = required <= 0 ? Fit.UNKNOWN : Fit.of(u);
      rows.add(new Row(e.getKey(), versions.stream().map(ModelStatus::version).distinct()
          .toList(), best.state().name(), loaded, required, estimate, capacity, u, fit));
    }
    return rows;
  }

  private static final String FITS = "perfect|good|marginal|too_tight";

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
    String given = query.getValue("sort");
    String sort = given == null ? "fit" : given.trim().toLowerCase(Locale.ROOT);
    Comparator<Row> order = order(sort);
    Memory m = memory();
    List<Row> all = rows(m);
    if (name != null) {
      all = all.stream().filter(r -> r.name().equals(name)).toList();
      if (all.isEmpty()) {
        throw new ModelServingException(ErrorCode.MODEL_NOT_FOUND, "no model named '" + name
            + "' is registered");
      }
    }
    int total = all.size();
    Stream<Row> rows = all.stream()
        .filter(r -> floor == null || (r.fit() != Fit.UNKNOWN && r.fit().ordinal()
            <= floor.ordinal()))
        .sorted(order);
    if (limit != null) {
      rows = rows.limit(limit);
    }
    List<Row> returned = rows.toList();
    ex.json(200, Json.write(g -> {
      g.writeStartObject();
      writeNode(g);
      writeSystem(g, m);
      g.writeNumberField("total_models", total);
      g.writeNumberField("returned_models", returned.size());
      writeFilters(g, limit, floor, sort, name);
      g.writeArrayFieldStart("models");
      for (Row r : returned) {
        writeRow(g, r);
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
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
      throw new HttpError(400, "invalid limit value: use a whole number from 1 to " + MAX_LIMIT);
    }
    return limit;
  }

  private static @Nullable Fit minFit(@Nullable String text) {
    if (text == null) {
      return null;
    }
    Fit minFit = null;
    for (Fit f : Fit.values()) {
      if (f != Fit.UNKNOWN && f.wire().equals(text.trim().toLowerCase(Locale.ROOT))) {
        minFit = f;
      }
    }
    if (minFit == null) {
      throw new HttpError(400, "invalid min_fit value: use " + FITS);
    }
    return minFit;
  }

  private static Comparator<Row> order(String sort) {
    return switch (sort) {
      case "fit" -> Comparator.comparing((Row r) -> r.fit().ordinal())
          .thenComparingDouble(r -> Double.isNaN(r.utilization()) ? 0 : r.utilization())
          .thenComparing(Row::name);
      case "name" -> Comparator.comparing(Row::name);
      case "memory" -> Comparator.comparingLong(Row::required).reversed()
          .thenComparing(Row::name);
      default -> throw new HttpError(400, "invalid sort value: use fit|name|memory");
    };
  }

  private static void writeFilters(JsonGenerator g, @Nullable Integer limit, @Nullable Fit floor,
      String sort, @Nullable String name) throws IOException {
    g.writeObjectFieldStart("filters");
    if (limit == null) {
      g.writeNullField("limit");
    } else {
      g.writeNumberField("limit", limit);
    }
    if (floor == null) {
      g.writeNullField("min_fit");
    } else {
      g.writeStringField("min_fit", floor.wire());
    }
    g.writeStringField("sort", sort);
    if (name != null) {
      g.writeStringField("name", name);
    }
    g.writeEndObject();
  }

  private static void writeRow(JsonGenerator g, Row r) throws IOException {
    g.writeStartObject();
    g.writeStringField("name", r.name());
    g.writeArrayFieldStart("versions");
    for (long v : r.versions()) {
      g.writeNumber(v);
    }
    g.writeEndArray();
    g.writeStringField("state", r.state());
    g.writeBooleanField("loaded", r.loaded());
    g.writeNumberField("memory_required_bytes", r.required());
    g.writeStringField("memory_estimate", r.estimate());
    g.writeNumberField("memory_available_bytes", r.capacity());
    if (Double.isNaN(r.utilization()) || Double.isInfinite(r.utilization())) {
      g.writeNullField("utilization");
    } else {
      g.writeNumberField("utilization", r.utilization());
    }
    g.writeStringField("fit", r.fit().wire());
    g.writeEndObject();
  }
}
