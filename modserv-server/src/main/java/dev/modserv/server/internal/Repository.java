package dev.modserv.server.internal;

import dev.modserv.core.ModelRegistry;
import dev.modserv.core.ModelState;
import dev.modserv.core.ModelStatus;
import dev.modserv.core.VersionPolicy;
import dev.modserv.spi.ModelSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model repository folder, {@code <root>/<model>/<version>/<artifact>} with an optional {@code
 * <root>/<model>/model.yaml}, kept in step with a {@link ModelRegistry}.
 *
 * <p>{@link #start()} loads what the folder holds. When polling is on, each poll compares the
 * folder with what was loaded: a new version folder loads, a removed one drains and unloads, a
 * removed model folder unloads every version, and a changed {@code model.yaml} reloads the model's
 * versions with the new settings (a bad one is reported, key by key, and the running versions stay
 * as they are). A change is acted on only once it looks the same on two polls in a row (the sizes
 * and modification times of every file), so a folder still being copied is not loaded half-way.
 *
 * <p>Polls run on one thread; loads run on two others and never block a poll.
 */
public final class Repository implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Repository.class);
  private static final String MODEL_YAML = "model.yaml";
  private static final Duration STILL_LOADING_EVERY = Duration.ofSeconds(15);

  private final Path root;
  private final ModelRegistry registry;
  private final Progress progress;
  private final Duration pollInterval;
  private final ScheduledExecutorService poller;
  private final ExecutorService loader;
  private final Map<String, Tracked> tracked = new HashMap<>();
  private final Map<String, List<String>> problems = new TreeMap<>();
  private final Set<String> warned = new HashSet<>();
  private Map<String, String> previous = Map.of();
  private @Nullable ScheduledFuture<?> polling;

  /**
   * @param root the repository folder
   * @param registry where models load
   * @param progress shows the reading of big artifacts
   * @param pollInterval how often to look for changes; zero turns polling off
   */
  public Repository(Path root, ModelRegistry registry, Progress progress, Duration pollInterval) {
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException("model repository " + root
          + " is not a folder; create it, or leave --model-repository out to serve the default"
          + " model");
    }
    this.root = root.toAbsolutePath().normalize();
    this.registry = registry;
    this.progress = progress;
    this.pollInterval = pollInterval;
    this.poller = Executors.newSingleThreadScheduledExecutor(daemon("modserv-repository-poll"));
    this.loader = Executors.newFixedThreadPool(2, daemon("modserv-repository-load"));
  }

  /** Returns the repository folder. */
  public Path root() {
    return root;
  }

  /**
   * Reads the folder without loading anything and returns the models {@code /ready} should wait
   * for: those whose {@code model.yaml} reads well (or is absent) and says {@code
   * required-for-readiness} (the default).
   */
  public synchronized Set<String> plan() {
    Set<String> required = new TreeSet<>();
    for (ModelDir m : scan().values()) {
      try {
        ModelSettings s = m.yaml == null ? ModelSettings.defaults() : ModelYaml.read(m.yaml);
        if (s.requiredForReadiness()) {
          required.add(m.name);
        }
      } catch (ModelConfigException e) {
        // reported by start()
      }
    }
    return required;
  }

  /** Returns how many model folders the repository holds now. */
  public synchronized int modelCount() {
    return scan().size();
  }

  /**
   * Loads every model the folder holds and waits until each load has ended (ready or failed),
   * then starts polling when it is on.
   */
  public void start() {
    List<CompletableFuture<?>> loads;
    synchronized (this) {
      loads = sync(true);
    }
    CompletableFuture.allOf(loads.stream()
        .map(f -> f.handle((ok, err) -> null)).toArray(CompletableFuture[]::new)).join();
    if (!pollInterval.isZero() && !pollInterval.isNegative()) {
      long ms = pollInterval.toMillis();
      polling = poller.scheduleWithFixedDelay(this::pollQuietly, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  /** Returns the current {@code model.yaml} problems by model, one line per bad key. */
  public synchronized Map<String, List<String>> problems() {
    return Map.copyOf(problems);
  }

  /** Looks at the folder once and acts on stable changes; what a scheduled poll does. */
  public synchronized void poll() {
    sync(false);
  }

  private void pollQuietly() {
    try {
      poll();
    } catch (RuntimeException e) {
      log.error("polling {} failed; trying again at the next poll", root, e);
    }
  }

  /** Returns the fingerprints seen this round; acts on the ones equal to the last round's. */
  private List<CompletableFuture<?>> sync(boolean initial) {
    List<CompletableFuture<?>> loads = new ArrayList<>();
    Map<String, ModelDir> scan = scan();
    Map<String, String> seen = new HashMap<>();
    scan.values().forEach(m -> {
      seen.put(m.name + "/" + MODEL_YAML, m.yamlFingerprint);
      m.versions.values().forEach(v -> seen.put(m.name + "/" + v.version, v.fingerprint));
    });

    for (String gone : new ArrayList<>(tracked.keySet())) {
      if (!scan.containsKey(gone)) {
        Tracked t = tracked.remove(gone);
        problems.remove(gone);
        if (t != null && !t.versions.isEmpty()) {
          log.info("model folder {} was removed: unloading every version", gone);
          var unused = registry.unload(gone)
              .whenComplete((ok, err) -> logUnload(gone, "every version", err));
        }
      }
    }

    for (ModelDir m : scan.values()) {
      String yamlKey = m.name + "/" + MODEL_YAML;
      if (!initial && !m.yamlFingerprint.equals(previous.get(yamlKey))) {
        continue; // new or changing: wait for a poll that sees it unchanged
      }
      Tracked t = tracked.computeIfAbsent(m.name, n -> new Tracked());
      if (t.yamlFingerprint == null || !t.yamlFingerprint.equals(m.yamlFingerprint)) {
        boolean first = t.yamlFingerprint == null;
        t.yamlFingerprint = m.yamlFingerprint;
        applySettings(m, t, first, loads);
      }
      ModelSettings settings = t.settings;
      if (settings == null) {
        continue;
      }
      for (Long v : new ArrayList<>(t.versions.keySet())) {
        if (!m.versions.containsKey(v)) {
          t.versions.remove(v);
          if (registry.status(m.name, v).isPresent()) {
            log.info("{} v{}: its folder was removed; draining, then unloading", m.name, v);
            var unused = registry.unload(m.name, v)
                .whenComplete((ok, err) -> logUnload(m.name, "v" + v, err));
          }
        }
      }
      List<Long> wanted = wanted(m.versions.keySet(), settings);
      for (Long v : new ArrayList<>(t.versions.keySet())) {
        // The registry let it go or is letting it go (version policy); forgetting it only once
        // it is gone would miss it when a poll sees it draining, and it would not load again
        // when the policy wants it back (its newer folder removed).
        if (!wanted.contains(v) && registry.status(m.name, v).map(Repository::leaving)
            .orElse(true)) {
          t.versions.remove(v);
        }
      }
      for (long v : wanted) {
        VersionDir d = m.versions.get(v);
        if (d == null || (!initial && !d.fingerprint.equals(previous.get(m.name + "/" + v)))) {
          continue;
        }
        String had = t.versions.get(v);
        Optional<ModelStatus> status = registry.status(m.name, v);
        if (had == null && status.map(Repository::leaving).orElse(false)) {
          continue; // wanted again while the policy lets it go: load it once it is gone
        }
        boolean live = status.isPresent() && status.get().state() != ModelState.FAILED
            && status.get().state() != ModelState.UNLOADED;
        if (had == null && live) {
          t.versions.put(v, d.fingerprint); // loaded already (a version the policy had let go)
        } else if (had == null || (!had.equals(d.fingerprint) && !live)) {
          t.versions.put(v, d.fingerprint);
          loads.add(load(m.name, d, settings));
        } else if (!had.equals(d.fingerprint) && warned.add(m.name + "/" + v + d.fingerprint)) {
          log.warn("{} v{}: files changed after it loaded; the loaded version stays as it was. "
              + "Add a new version folder to serve new files", m.name, v);
        }
      }
    }
    previous = seen;
    return loads;
  }

  private void applySettings(ModelDir m, Tracked t, boolean first,
      List<CompletableFuture<?>> loads) {
    ModelSettings settings;
    try {
      settings = m.yaml == null ? ModelSettings.defaults() : ModelYaml.read(m.yaml);
    } catch (ModelConfigException e) {
      problems.put(m.name, e.problems());
      log.error("{}", e.getMessage());
      if (t.settings != null) {
        log.error("{}: keeping the settings it was loaded with until model.yaml is fixed",
            m.name);
      } else {
        log.error("{}: not loaded until model.yaml is fixed", m.name);
      }
      return;
    }
    problems.remove(m.name);
    ModelSettings old = t.settings;
    t.settings = settings;
    registry.configure(m.name, settings.config());
    if (first || old == null || t.versions.isEmpty()) {
      return;
    }
    if (old.servingKey().equals(settings.servingKey())) {
      relabel(m.name, old, settings);
      return;
    }
    old.labels().keySet().stream().filter(l -> !settings.labels().containsKey(l))
        .forEach(l -> quietly(() -> registry.removeLabel(m.name, l)));
    // One version at a time, so that the model's other versions serve meanwhile; versions the
    // new settings do not want unload last.
    List<Long> wanted = wanted(m.versions.keySet(), settings);
    List<Long> unwanted = t.versions.keySet().stream().filter(v -> !wanted.contains(v)).toList();
    log.info("{}: model.yaml changed; reloading {} with the new settings{}", m.name, wanted,
        unwanted.isEmpty() ? "" : ", then unloading " + unwanted);
    CompletableFuture<?> chain = CompletableFuture.completedFuture(null);
    for (Long v : wanted) {
      VersionDir d = m.versions.get(v);
      if (d == null) {
        continue;
      }
      t.versions.put(v, d.fingerprint);
      chain = chain.thenCompose(x -> registry.unload(m.name, v).handle((ok, err) -> null))
          .thenCompose(x -> load(m.name, d, settings).handle((ok, err) -> null));
    }
    for (Long v : unwanted) {
      t.versions.remove(v);
      chain = chain.thenCompose(x -> registry.unload(m.name, v)
          .whenComplete((ok, err) -> logUnload(m.name, "v" + v, err)).handle((ok, err) -> null));
    }
    loads.add(chain);
  }

  /**
   * Applies a change of labels alone, without reloading: labels move atomically to versions that
   * are ready; a label naming a version not loaded yet moves once that version is ready (it loads
   * at this poll, as a labelled version is wanted).
   */
  private void relabel(String name, ModelSettings old, ModelSettings settings) {
    log.info("{}: model.yaml changed its labels only: {} (no reload)", name, settings.labels());
    old.labels().keySet().stream().filter(l -> !settings.labels().containsKey(l))
        .forEach(l -> quietly(() -> registry.removeLabel(name, l)));
    settings.labels().forEach((label, v) -> {
      if (registry.status(name, v).map(st -> st.state() == ModelState.READY).orElse(false)) {
        quietly(() -> registry.label(name, label, v));
      }
    });
  }

  private CompletableFuture<ModelStatus> load(String name, VersionDir d, ModelSettings settings) {
    long started = System.nanoTime();
    long[] bytes = {0};
    ModelSource source = ModelSource.of(artifact(d.dir));
    for (Map.Entry<String, String> o : settings.engineOptions().entrySet()) {
      source = source.withOption(o.getKey(), o.getValue());
    }
    ModelSource src = source;
    log.info("{} v{}: loading {}", name, d.version, root.relativize(src.location()));
    CompletableFuture<ModelStatus> loaded = CompletableFuture.supplyAsync(() -> {
      try {
        bytes[0] = progress.read(name + " v" + d.version, d.dir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return src;
    }, loader).thenCompose(s -> registry.load(name, d.version, s));
    ScheduledFuture<?> still = poller.scheduleAtFixedRate(() -> log.info(
        "{} v{}: still loading ({}, {} s so far)", name, d.version, Units.human(bytes[0]),
        (System.nanoTime() - started) / 1_000_000_000L), STILL_LOADING_EVERY.toMillis(),
        STILL_LOADING_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    return loaded.whenComplete((status, err) -> {
      still.cancel(false);
      long ms = (System.nanoTime() - started) / 1_000_000;
      if (err != null) {
        Throwable cause = err.getCause() != null && err instanceof java.util.concurrent
            .CompletionException ? err.getCause() : err;
        // An engine names a bad option by its key; say where it was set.
        String where = !settings.engineOptions().isEmpty() && String.valueOf(cause.getMessage())
            .contains(" option") ? " (check engine-options in " + name + "/" + MODEL_YAML + ")"
            : "";
        log.error("{} v{}: FAILED after {} ms: {}{}", name, d.version, ms, cause.getMessage(),
            where);
        return;
      }
      log.info("{} v{}: READY in {} ms ({}{}{})", name, d.version, ms,
          status.metadata().map(md -> md.inputs().size() + " inputs, ").orElse(""),
          Units.human(bytes[0]), status.warmupTime().map(w -> ", warm-up " + w.toMillis()
              + " ms").orElse(""));
      settings.labels().forEach((label, v) -> {
        if (v == d.version) {
          quietly(() -> registry.label(name, label, v));
        }
      });
    });
  }

  private static void logUnload(String name, String what, @Nullable Throwable err) {
    java.util.Optional<dev.modserv.api.ErrorCode> code =
        dev.modserv.api.ModelServingException.codeOf(err);
    if (err == null || code.equals(java.util.Optional.of(dev.modserv.api.ErrorCode
        .VERSION_NOT_FOUND)) || code.equals(java.util.Optional.of(dev.modserv.api.ErrorCode
        .MODEL_NOT_FOUND))) {
      log.info("{} {}: unloaded", name, what);
    } else {
      log.warn("{} {}: unload ended with {}", name, what, err.toString());
    }
  }

  private static void quietly(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      log.warn("{}", e.getMessage());
    }
  }

  /**
   * The artifact of a version folder: its only entry (a file such as {@code model.onnx}, or a
   * folder such as Triton's {@code model.savedmodel/}), else the version folder itself.
   */
  static Path artifact(Path versionDir) {
    try (Stream<Path> entries = Files.list(versionDir)) {
      List<Path> all = entries.filter(p -> !hidden(p)).toList();
      if (all.size() == 1) {
        return all.get(0);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + versionDir, e);
    }
    return versionDir;
  }

  /** Picks the version folders to load: those the policy picks and those a label names. */
  private static boolean leaving(ModelStatus status) {
    return status.state() == ModelState.DRAINING || status.state() == ModelState.UNLOADED;
  }

  static List<Long> wanted(Set<Long> present, ModelSettings settings) {
    Set<Long> all = new TreeSet<>(wanted(present, settings.config().versionPolicy()));
    settings.labels().values().stream().filter(present::contains).forEach(all::add);
    return List.copyOf(all);
  }

  /** Picks the version folders the policy loads. */
  static List<Long> wanted(Set<Long> present, VersionPolicy policy) {
    List<Long> sorted = new ArrayList<>(new TreeSet<>(present));
    return switch (policy) {
      case VersionPolicy.Latest l -> sorted.subList(Math.max(0, sorted.size() - l.count()),
          sorted.size());
      case VersionPolicy.All a -> sorted;
      case VersionPolicy.Specific s -> sorted.stream().filter(s.versions()::contains).toList();
    };
  }

  private Map<String, ModelDir> scan() {
    Map<String, ModelDir> models = new LinkedHashMap<>();
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path dir : dirs.sorted().toList()) {
        String name = String.valueOf(dir.getFileName());
        if (hidden(dir) || !Files.isDirectory(dir)) {
          continue;
        }
        Path yaml = dir.resolve(MODEL_YAML);
        boolean hasYaml = Files.isRegularFile(yaml);
        Map<Long, VersionDir> versions = new TreeMap<>();
        try (Stream<Path> entries = Files.list(dir)) {
          for (Path v : entries.sorted().toList()) {
            String vn = String.valueOf(v.getFileName());
            if (hidden(v) || vn.equals(MODEL_YAML)) {
              continue;
            }
            long version = versionNumber(vn);
            if (version < 1 || !Files.isDirectory(v)) {
              if (warned.add(v.toString())) {
                log.warn("{}: ignored; a model folder holds version folders named 1, 2, ... "
                    + "and an optional model.yaml", root.relativize(v));
              }
              continue;
            }
            versions.put(version, new VersionDir(version, v, fingerprint(v)));
          }
        }
        models.put(name, new ModelDir(name, hasYaml ? yaml : null,
            hasYaml ? fingerprint(yaml) : "", versions));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the model repository " + root, e);
    }
    return models;
  }

  private static long versionNumber(String name) {
    if (name.isEmpty() || name.length() > 18 || !name.chars().allMatch(Character::isDigit)) {
      return -1;
    }
    return Long.parseLong(name);
  }

  private static boolean hidden(Path p) {
    return String.valueOf(p.getFileName()).startsWith(".");
  }

  /** Every file's relative path, size and modification time. */
  static String fingerprint(Path location) throws IOException {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> walk = Files.walk(location)) {
      for (Path p : walk.sorted().toList()) {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
        sb.append(location.relativize(p)).append(':').append(a.isDirectory() ? "d" : a.size())
            .append(':').append(a.lastModifiedTime().toMillis()).append(';');
      }
    }
    return sb.toString();
  }

  /** Stops polling; models stay loaded (closing the server unloads them). */
  @Override
  public void close() {
    ScheduledFuture<?> p = polling;
    if (p != null) {
      p.cancel(false);
    }
    poller.shutdownNow();
    loader.shutdownNow();
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  private record ModelDir(String name, @Nullable Path yaml, String yamlFingerprint,
      Map<Long, VersionDir> versions) {}

  private record VersionDir(long version, Path dir, String fingerprint) {}

  private static final class Tracked {
    @Nullable String yamlFingerprint;
    @Nullable ModelSettings settings;
    final Map<Long, String> versions = new TreeMap<>();
  }
}
