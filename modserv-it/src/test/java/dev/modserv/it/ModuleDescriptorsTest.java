package dev.modserv.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.testkit.ModuleServices;
import java.io.File;
import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every modserv artifact's module descriptor, checked against its services files and its API. */
class ModuleDescriptorsTest {

  /** The reactor's own artifacts on the test class path (jars, or classes folders). */
  static Map<String, Path> modservArtifacts() {
    Map<String, Path> found = new TreeMap<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path path = Path.of(entry);
      String text = path.toString().replace(File.separatorChar, '/');
      int at = text.indexOf("/modserv-");
      if (at < 0 || text.contains("/modserv-it/") || !text.contains("/target/")
          && !text.contains("/dev/modserv/")) {
        continue;
      }
      String rest = text.substring(at + 1);
      found.put(rest.substring(0, rest.indexOf('/')), path);
    }
    return found;
  }

  private static boolean hasClasses(Path artifact) throws IOException {
    if (Files.isDirectory(artifact)) {
      try (Stream<Path> files = Files.walk(artifact)) {
        return files.anyMatch(p -> p.toString().endsWith(".class"));
      }
    }
    try (var jar = new java.util.jar.JarFile(artifact.toFile())) {
      return jar.stream().anyMatch(e -> e.getName().endsWith(".class"));
    }
  }

  @Test
  void findsTheModulesItChecks() {
    assertThat(modservArtifacts()).containsKeys("modserv-api", "modserv-core", "modserv-testkit",
        "modserv-onnx", "modserv-llama", "modserv-tensorflow", "modserv-http-adapter",
        "modserv-grpc-adapter");
  }

  @Test
  void everyArtifactWithClassesHasAModuleInfoThatAgreesWithItsServicesFiles() throws IOException {
    for (Map.Entry<String, Path> artifact : modservArtifacts().entrySet()) {
      if (!hasClasses(artifact.getValue())) {
        continue; // a shell a later issue fills
      }
      ModuleServices.assertConsistent(artifact.getValue());
    }
  }

  @Test
  void noModuleExportsAnInternalPackageToEveryone() throws IOException {
    for (Map.Entry<String, Path> artifact : modservArtifacts().entrySet()) {
      if (!hasClasses(artifact.getValue())) {
        continue;
      }
      ModuleReference ref = ModuleFinder.of(artifact.getValue()).findAll().iterator().next();
      ModuleDescriptor descriptor = ref.descriptor();
      assertThat(descriptor.isAutomatic()).as("%s has a module-info", artifact.getKey()).isFalse();
      assertThat(descriptor.name()).startsWith("dev.modserv.");
      List<String> leaked = descriptor.exports().stream()
          .filter(e -> !e.isQualified() && e.source().contains(".internal"))
          .map(ModuleDescriptor.Exports::source).toList();
      assertThat(leaked).as("%s exports internal packages", artifact.getKey()).isEmpty();
    }
  }
}
