package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Runs core on the module path, in a layer of its own: its {@code uses} and the testkit's {@code
 * provides} must let {@code ServiceLoader} find the fake engine with no services file involved.
 */
class ModulePathTest {

  /** The jars core and the testkit need, from the class path. */
  private static List<Path> modulePath() {
    List<Path> paths = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      String name = Path.of(entry).getFileName().toString();
      boolean needed = name.startsWith("modserv-api") || name.startsWith("modserv-core")
          || name.startsWith("modserv-testkit") || name.startsWith("micrometer-")
          || name.startsWith("HdrHistogram") || name.startsWith("LatencyUtils")
          || name.startsWith("slf4j-api") || name.startsWith("jspecify")
          || name.startsWith("caffeine-")
          || name.startsWith("junit-jupiter-api") || name.startsWith("junit-platform-commons")
          || name.startsWith("opentest4j") || name.startsWith("apiguardian");
      boolean reactorClasses = entry.contains("modserv-api") || entry.contains("modserv-core")
          || entry.contains("modserv-testkit");
      if (needed || reactorClasses && entry.endsWith("classes")) {
        paths.add(Path.of(entry));
      }
    }
    return paths;
  }

  @Test
  void coreDiscoversAProviderModuleThroughItsModuleDescriptor() throws Exception {
    ModuleFinder finder = ModuleFinder.of(modulePath().toArray(Path[]::new));
    ModuleLayer boot = ModuleLayer.boot();
    Configuration config = boot.configuration().resolveAndBind(finder, ModuleFinder.of(),
        Set.of("dev.modserv.core", "dev.modserv.testkit"));
    ModuleLayer layer = boot.defineModulesWithOneLoader(config, ClassLoader.getPlatformClassLoader());
    assertThat(layer.findModule("dev.modserv.core")).isPresent();
    assertThat(layer.findModule("dev.modserv.core").get().getDescriptor().isAutomatic()).isFalse();

    ClassLoader loader = layer.findLoader("dev.modserv.core");
    Class<?> server = loader.loadClass("dev.modserv.core.ModelServer");
    Object builder = server.getMethod("builder").invoke(null);
    Method classLoader = builder.getClass().getMethod("classLoader", ClassLoader.class);
    classLoader.invoke(builder, loader);
    Object built = builder.getClass().getMethod("build").invoke(builder);
    try {
      assertThat(server.getMethod("backends").invoke(built)).asList().containsExactly("fake");
      assertThat(server.getMethod("discoveryFailures").invoke(built)).asList().isEmpty();
    } finally {
      server.getMethod("close").invoke(built);
    }
  }
}
