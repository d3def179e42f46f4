package dev.modserv.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.modserv.api.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.module.ModuleDescriptor;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModuleServicesTest {
  private static final String SPI = "dev.modserv.spi.BackendProvider";

  @TempDir Path temp;

  private static Path classesOf(Class<?> type) throws URISyntaxException {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  // ---- descriptors built in memory ----

  private static ModuleDescriptor providing(String service, String... providers) {
    return ModuleDescriptor.newModule("m.engine").provides(service, List.of(providers)).build();
  }

  @Test
  void agreeingListsPass() {
    ModuleDescriptor d =
        ModuleDescriptor.newModule("m.engine")
            .provides(SPI, List.of("a.One", "a.Two"))
            .provides("java.lang.Runnable", List.of("a.Run"))
            .build();
    assertThatCode(
            () ->
                ModuleServices.assertConsistent(
                    d,
                    Map.of(SPI, Set.of("a.Two", "a.One"), "java.lang.Runnable", Set.of("a.Run"))))
        .doesNotThrowAnyException();
    assertThatCode(
            () ->
                ModuleServices.assertConsistent(ModuleDescriptor.newModule("m").build(), Map.of()))
        .doesNotThrowAnyException();
  }

  @Test
  void aProviderMissingFromTheServicesFileFails() {
    assertThatThrownBy(
            () ->
                ModuleServices.assertConsistent(
                    providing(SPI, "a.One", "a.Two"), Map.of(SPI, Set.of("a.One"))))
        .isInstanceOf(AssertionError.class)
        .hasMessage(
            "module m.engine: module-info and META-INF/services disagree:\n"
                + "  - "
                + SPI
                + ": only in module-info [a.Two], only in META-INF/services/"
                + SPI
                + " []");
  }

  @Test
  void aProviderMissingFromModuleInfoFails() {
    assertThatThrownBy(
            () ->
                ModuleServices.assertConsistent(
                    providing(SPI, "a.One"), Map.of(SPI, Set.of("a.One", "a.Extra"))))
        .isInstanceOf(AssertionError.class)
        .hasMessageEndingWith(
            SPI + ": only in module-info [], only in META-INF/services/" + SPI + " [a.Extra]");
  }

  @Test
  void aServicesFileWithoutProvidesFails() {
    assertThatThrownBy(
            () ->
                ModuleServices.assertConsistent(
                    ModuleDescriptor.newModule("m.engine").build(), Map.of(SPI, Set.of("a.One"))))
        .isInstanceOf(AssertionError.class)
        .hasMessageEndingWith(
            "  - META-INF/services/"
                + SPI
                + " lists [a.One] but module-info has no 'provides "
                + SPI
                + "'");
  }

  @Test
  void aProvidesWithoutServicesFileFails() {
    assertThatThrownBy(() -> ModuleServices.assertConsistent(providing(SPI, "a.One"), Map.of()))
        .isInstanceOf(AssertionError.class)
        .hasMessageEndingWith(
            "  - module-info provides "
                + SPI
                + " with [a.One] but there is no META-INF/services/"
                + SPI);
  }

  @Test
  void everyDifferenceIsListed() {
    ModuleDescriptor d =
        ModuleDescriptor.newModule("m.engine")
            .provides(SPI, List.of("a.One"))
            .provides("java.lang.Runnable", List.of("a.Run"))
            .build();
    assertThatThrownBy(
            () ->
                ModuleServices.assertConsistent(
                    d, Map.of("java.util.spi.ToolProvider", Set.of("a.T"))))
        .isInstanceOf(AssertionError.class)
        .message()
        .startsWith("module m.engine: module-info and META-INF/services disagree:\n")
        .contains("module-info provides java.lang.Runnable with [a.Run]")
        .contains("module-info provides " + SPI + " with [a.One]")
        .contains("META-INF/services/java.util.spi.ToolProvider lists [a.T]")
        .satisfies(m -> assertThat(m.lines().filter(l -> l.startsWith("  - "))).hasSize(3));
  }

  // ---- real class folders and jars ----

  @Test
  void theTestkitsOwnClassesAgree() throws Exception {
    Path classes = classesOf(ModuleServices.class);
    assertThat(classes.resolve("module-info.class")).isRegularFile();
    ModuleServices.assertConsistent(classes);
  }

  @Test
  void theApiModuleAgrees() throws Exception {
    // target/classes in the reactor, the installed jar otherwise: both forms are read.
    ModuleServices.assertConsistent(classesOf(Tensor.class));
  }

  @Test
  void aServicesFileNextToAModuleThatProvidesNothingFails() throws Exception {
    Path dir = Files.createDirectories(temp.resolve("classes"));
    // The api module provides nothing.
    Path apiClasses = classesOf(Tensor.class);
    if (Files.isDirectory(apiClasses)) {
      Files.copy(apiClasses.resolve("module-info.class"), dir.resolve("module-info.class"));
    } else {
      try (var fs = java.nio.file.FileSystems.newFileSystem(apiClasses)) {
        Files.copy(fs.getPath("module-info.class"), dir.resolve("module-info.class"));
      }
    }
    writeServicesFile(dir, SPI, "x.Y\n");
    assertThatThrownBy(() -> ModuleServices.assertConsistent(dir))
        .isInstanceOf(AssertionError.class)
        .hasMessage(
            "module dev.modserv.api: module-info and META-INF/services disagree:\n"
                + "  - META-INF/services/"
                + SPI
                + " lists [x.Y] but module-info has no 'provides "
                + SPI
                + "'");
    Path jar = jar(dir, temp.resolve("bad.jar"));
    assertThatThrownBy(() -> ModuleServices.assertConsistent(jar))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("lists [x.Y] but module-info has no 'provides " + SPI + "'");
  }

  @Test
  void aCompiledModuleThatProvidesIsReadFromFolderAndJar() throws Exception {
    Optional<ToolProvider> javac = ToolProvider.findFirst("javac");
    assumeTrue(javac.isPresent(), "needs a JDK with javac to compile a module");
    Path src = Files.createDirectories(temp.resolve("src/p"));
    Files.writeString(
        temp.resolve("src/module-info.java"),
        "module m.provider { provides java.lang.Runnable with p.Task, p.Other; }");
    Files.writeString(
        src.resolve("Task.java"),
        "package p; public class Task implements Runnable { public void run() {} }");
    Files.writeString(
        src.resolve("Other.java"),
        "package p; public class Other implements Runnable { public void run() {} }");
    Path out = Files.createDirectories(temp.resolve("out"));
    PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
    int rc =
        javac
            .get()
            .run(
                quiet,
                quiet,
                "-d",
                out.toString(),
                temp.resolve("src/module-info.java").toString(),
                src.resolve("Task.java").toString(),
                src.resolve("Other.java").toString());
    assertThat(rc).as("javac exit code").isZero();

    assertThatThrownBy(() -> ModuleServices.assertConsistent(out))
        .isInstanceOf(AssertionError.class)
        .hasMessageEndingWith(
            "module-info provides java.lang.Runnable with [p.Other, p.Task] but there is no"
                + " META-INF/services/java.lang.Runnable");

    writeServicesFile(out, "java.lang.Runnable", "# the tasks\np.Task  # first\n\n  p.Other\n");
    ModuleServices.assertConsistent(out);
    ModuleServices.assertConsistent(jar(out, temp.resolve("good.jar")));

    writeServicesFile(out, "java.lang.Runnable", "p.Task\n");
    assertThatThrownBy(() -> ModuleServices.assertConsistent(jar(out, temp.resolve("half.jar"))))
        .isInstanceOf(AssertionError.class)
        .hasMessageEndingWith(
            "java.lang.Runnable: only in module-info [p.Other], only in"
                + " META-INF/services/java.lang.Runnable []");
  }

  @Test
  void aFolderWithoutModuleInfoFails() throws Exception {
    Path empty = Files.createDirectories(temp.resolve("empty"));
    assertThatThrownBy(() -> ModuleServices.assertConsistent(empty))
        .isInstanceOf(AssertionError.class)
        .hasMessage("no module-info.class in " + empty);
    Path missing = temp.resolve("nothing-here.jar");
    assertThatThrownBy(() -> ModuleServices.assertConsistent(missing))
        .isInstanceOf(AssertionError.class)
        .hasMessage("no such folder or jar: " + missing);
  }

  private static void writeServicesFile(Path classes, String service, String text)
      throws IOException {
    Path dir = Files.createDirectories(classes.resolve("META-INF/services"));
    Files.writeString(dir.resolve(service), text, StandardCharsets.UTF_8);
  }

  /** Writes every file under {@code dir} into a new jar at {@code jar}. */
  private static Path jar(Path dir, Path jar) throws IOException {
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
        Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
        out.putNextEntry(new JarEntry(dir.relativize(file).toString().replace('\\', '/')));
        Files.copy(file, out);
        out.closeEntry();
      }
    }
    return jar;
  }
}
