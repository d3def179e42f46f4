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
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every modserv artifact's module descriptor, checked against its services files and its API. */
class ModuleDescriptorsTest {

  /**
   * The reactor's own artifacts on the test class path (jars, or classes folders), by artifactId.
   * Each entry is named by the Maven coordinates it carries (a jar's {@code pom.properties}, or
   * the {@code pom.xml} of the module whose {@code target/classes} it is), never by the text of
   * its path: a checkout may sit in a folder that is itself called {@code modserv-something}.
   */
  static Map<String, Path> modservArtifacts() throws IOException {
    Map<String, Path> found = new TreeMap<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path path = Path.of(entry);
      String artifactId = modservArtifactId(path);
      if (artifactId != null && !artifactId.equals("modserv-it")) {
        found.put(artifactId, path);
      }
    }
    return found;
  }

  private static final Pattern POM_ARTIFACT_ID = Pattern.compile(
      "</parent>.*?<artifactId>\\s*([^<\\s]+)\\s*</artifactId>", Pattern.DOTALL);

  /** The artifactId of a {@code dev.modserv} artifact, or null for anything else. */
  private static @Nullable String modservArtifactId(Path entry) throws IOException {
    if (Files.isDirectory(entry)) {
      Path pom = entry.toAbsolutePath().normalize().getParent().getParent().resolve("pom.xml");
      if (!entry.getFileName().toString().equals("classes") || !Files.isRegularFile(pom)) {
        return null;
      }
      String text = Files.readString(pom);
      Matcher matcher = POM_ARTIFACT_ID.matcher(text);
      return text.contains("<groupId>dev.modserv</groupId>") && matcher.find()
          ? matcher.group(1) : null;
    }
    if (!entry.toString().endsWith(".jar") || !Files.isRegularFile(entry)) {
      return null;
    }
    try (JarFile jar = new JarFile(entry.toFile())) {
      return jar.stream()
          .map(JarEntry::getName)
          .filter(name -> name.startsWith("META-INF/maven/dev.modserv/")
              && name.endsWith("/pom.properties"))
          .map(name -> name.split("/")[3])
          .findFirst().orElse(null);
    }
  }

  private static boolean hasClasses(Path artifact) throws IOException {
    if (Files.isDirectory(artifact)) {
      try (Stream<Path> files = Files.walk(artifact)) {
        return files.anyMatch(p -> p.toString().endsWith(".class"));
      }
    }
    try (JarFile jar = new JarFile(artifact.toFile())) {
      return jar.stream().anyMatch(e -> e.getName().endsWith(".class"));
    }
  }

  @Test
  void findsTheModulesItChecks() throws IOException {
    assertThat(modservArtifacts()).containsKeys("modserv-api", "modserv-core", "modserv-testkit",
        "modserv-onnx", "modserv-llama", "modserv-tensorflow", "modserv-http-adapter",
        "modserv-grpc-adapter");
  }

  @Test
  void aCheckoutFolderNamedLikeAModuleIsNotTakenForOne(@TempDir Path tmp) throws IOException {
    // A clone in "modserv-clean": its modules' classes folders are named by their poms.
    Path module = Files.createDirectories(tmp.resolve("modserv-clean/modserv-core/target/classes"));
    Files.writeString(module.getParent().getParent().resolve("pom.xml"), """
        <project><parent><groupId>dev.modserv</groupId><artifactId>modserv-parent</artifactId>
        </parent><artifactId>modserv-core</artifactId></project>""");
    Path other = Files.createDirectories(tmp.resolve("modserv-clean/tools/target/classes"));
    Files.writeString(other.getParent().getParent().resolve("pom.xml"), """
        <project><groupId>org.example</groupId><artifactId>tools</artifactId></project>""");
    assertThat(modservArtifactId(module)).isEqualTo("modserv-core");
    assertThat(modservArtifactId(other)).isNull();
    assertThat(modservArtifactId(tmp.resolve("modserv-clean"))).isNull();
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
