package dev.modserv.core.discovery;

import dev.modserv.spi.Backend;
import dev.modserv.spi.BackendProvider;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import dev.modserv.testkit.FakeBackend;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Providers listed in this module's test META-INF/services, for the discovery tests. */
public final class TestProviders {
  /** Loads per backend name, across servers. */
  public static final Map<String, AtomicInteger> LOADS = new ConcurrentHashMap<>();
  /** Closes per backend name, across servers. */
  public static final Map<String, AtomicInteger> CLOSES = new ConcurrentHashMap<>();

  private TestProviders() {}

  /** A backend named after its provider that loads *.fake sources through a FakeBackend. */
  static final class NamedBackend implements Backend {
    private final String name;
    private final String prefix;
    private final FakeBackend fake = FakeBackend.create();

    NamedBackend(String name, String prefix) {
      this.name = name;
      this.prefix = prefix;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public boolean supports(ModelSource source) {
      return source.fileName().startsWith(prefix) && fake.supports(source);
    }

    @Override
    public LoadedModel load(ModelSource source) throws Exception {
      LOADS.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
      return fake.load(source);
    }

    @Override
    public void close() {
      CLOSES.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
    }
  }

  abstract static class Base implements BackendProvider {
    private final String name;
    private final int priority;
    private final String prefix;
    private volatile Backend backend;

    Base(String name, int priority, String prefix) {
      this.name = name;
      this.priority = priority;
      this.prefix = prefix;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public int priority() {
      return priority;
    }

    @Override
    public boolean supports(ModelSource source) {
      return source.fileName().startsWith(prefix) && source.fileName().endsWith(".fake");
    }

    @Override
    public synchronized Backend backend() {
      if (backend == null) {
        backend = new NamedBackend(name, prefix);
      }
      return backend;
    }
  }

  /** Priority 0, loads every *.fake. */
  public static final class Alpha extends Base {
    public Alpha() {
      super("alpha", 0, "");
    }
  }

  /** Priority 0, loads every *.fake; loses to alpha by name. */
  public static final class Beta extends Base {
    public Beta() {
      super("beta", 0, "");
    }
  }

  /** Priority 10, loads high-*.fake only. */
  public static final class High extends Base {
    public High() {
      super("high", 10, "high-");
    }
  }

  /** Fails to instantiate. */
  public static final class Broken implements BackendProvider {
    public Broken() {
      throw new IllegalStateException("native library missing");
    }

    @Override
    public String name() {
      return "broken";
    }

    @Override
    public boolean supports(ModelSource source) {
      return true;
    }

    @Override
    public Backend backend() {
      throw new AssertionError("unreachable");
    }
  }
}
