package dev.modserv.core.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.spi.Backend;
import dev.modserv.spi.BackendProvider;
import dev.modserv.spi.ModelSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engines one server can use: backends passed to its builder first, in the order given, then
 * providers found by {@link ServiceLoader}, by descending priority then name. Discovery is per
 * server; a provider that fails to instantiate or answer is logged and listed in {@link
 * #discoveryFailures()}, and the others still load.
 */
public final class BackendCatalog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BackendCatalog.class);

  private record Discovered(BackendProvider provider, String name, int priority) {}

  private final List<Backend> explicit;
  private final List<Discovered> discovered;
  private final List<String> failures;
  private final Set<Backend> created = Collections.newSetFromMap(new IdentityHashMap<>());

  private BackendCatalog(List<Backend> explicit, List<Discovered> discovered, List<String> failures) {
    this.explicit = List.copyOf(explicit);
    this.discovered = List.copyOf(discovered);
    this.failures = List.copyOf(failures);
  }

  /**
   * Builds the catalog.
   *
   * @param explicit backends from the builder; they win over discovered ones
   * @param loader the class loader to discover providers with, or null to skip discovery
   * @param excluded names of providers to leave out
   */
  public static BackendCatalog create(
      List<Backend> explicit, @Nullable ClassLoader loader, Set<String> excluded) {
    List<Discovered> found = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    Set<String> explicitNames = new java.util.HashSet<>();
    explicit.forEach(b -> explicitNames.add(b.name()));
    if (loader != null) {
      Iterator<BackendProvider> it = ServiceLoader.load(BackendProvider.class, loader).iterator();
      while (true) {
        BackendProvider provider;
        try {
          if (!it.hasNext()) {
            break;
          }
          provider = it.next();
        } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
          log.warn("skipping a backend provider that failed to load: {}", e.toString(), e);
          failures.add(e.toString());
          continue;
        }
        try {
          String name = provider.name();
          int priority = provider.priority();
          if (excluded.contains(name)) {
            log.debug("backend provider '{}' excluded by configuration", name);
          } else if (explicitNames.contains(name)) {
            log.debug("backend provider '{}' shadowed by an explicit backend", name);
          } else if (found.stream().anyMatch(d -> d.name().equals(name))) {
            String msg = "duplicate backend provider name '" + name + "' from "
                + provider.getClass().getName() + "; the first one found is kept";
            log.warn(msg);
            failures.add(msg);
          } else {
            found.add(new Discovered(provider, name, priority));
          }
        } catch (RuntimeException | LinkageError e) {
          log.warn("skipping backend provider {}: {}", provider.getClass().getName(), e.toString(), e);
          failures.add(provider.getClass().getName() + ": " + e);
        }
      }
    }
    found.sort(Comparator.comparingInt(Discovered::priority).reversed()
        .thenComparing(Discovered::name));
    return new BackendCatalog(explicit, found, failures);
  }

  /** Returns every backend name, explicit ones first, in selection order. */
  public List<String> names() {
    List<String> names = new ArrayList<>();
    explicit.forEach(b -> names.add(b.name()));
    discovered.forEach(d -> names.add(d.name()));
    return List.copyOf(names);
  }

  /** Returns what went wrong during discovery, one line per provider. */
  public List<String> discoveryFailures() {
    return failures;
  }

  /**
   * Returns the backend to load {@code source} with.
   *
   * @throws ModelServingException {@link ErrorCode#LOAD_FAILED} when none fits
   */
  public Backend select(ModelSource source, Optional<String> required) {
    if (required.isPresent()) {
      String name = required.get();
      for (Backend b : explicit) {
        if (b.name().equals(name)) {
          return b;
        }
      }
      for (Discovered d : discovered) {
        if (d.name().equals(name)) {
          return backendOf(d);
        }
      }
      throw new ModelServingException(ErrorCode.LOAD_FAILED,
          "backend '" + name + "' is not available; available backends: " + names()
              + discoveryNote());
    }
    for (Backend b : explicit) {
      if (supports(b.name(), () -> b.supports(source))) {
        return b;
      }
    }
    for (Discovered d : discovered) {
      if (supports(d.name(), () -> d.provider().supports(source))) {
        return backendOf(d);
      }
    }
    throw new ModelServingException(ErrorCode.LOAD_FAILED,
        "no backend can load '" + source.location() + "'; available backends: " + names()
            + discoveryNote() + ". Add an engine module (modserv-onnx, modserv-llama,"
            + " modserv-tensorflow) to the class path or name one in the model's configuration");
  }

  /** Returns the backend named {@code name}, starting a discovered one; empty when none can. */
  public Optional<Backend> named(String name) {
    try {
      return Optional.of(select(ModelSource.of(java.nio.file.Path.of(".")), Optional.of(name)));
    } catch (ModelServingException e) {
      return Optional.empty();
    }
  }

  /**
   * What a node gives up when {@code backend} loads {@code source} ({@link
   * Backend#nodeMemoryBytes(ModelSource, int)}), else what it weighs in the memory budget.
   */
  public static long nodeEstimate(Backend backend, ModelSource source, int maxContextTokens) {
    long told = backend.nodeMemoryBytes(source, maxContextTokens);
    return told > 0 ? told : ModelCache.estimate(backend, source);
  }

  private String discoveryNote() {
    return failures.isEmpty() ? "" : " (discovery failures: " + failures + ")";
  }

  private static boolean supports(String name, java.util.function.BooleanSupplier check) {
    try {
      return check.getAsBoolean();
    } catch (RuntimeException e) {
      log.warn("backend '{}' threw in supports(); treating it as not supporting", name, e);
      return false;
    }
  }

  private Backend backendOf(Discovered d) {
    try {
      Backend b = d.provider().backend();
      synchronized (created) {
        created.add(b);
      }
      return b;
    } catch (RuntimeException | LinkageError e) {
      throw new ModelServingException(ErrorCode.LOAD_FAILED,
          "backend '" + d.name() + "' failed to start: " + e, e);
    }
  }

  /** Closes the backends this catalog created from providers; explicit ones are the caller's. */
  @Override
  public void close() {
    List<Backend> toClose;
    synchronized (created) {
      toClose = new ArrayList<>(created);
      created.clear();
    }
    for (Backend b : toClose) {
      try {
        b.close();
      } catch (Exception e) {
        log.warn("backend '{}' failed to close", b.name(), e);
      }
    }
  }
}
