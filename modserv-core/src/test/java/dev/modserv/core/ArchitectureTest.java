package dev.modserv.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The module arrows of DESIGN.md, checked on the compiled classes. */
class ArchitectureTest {
  private static final JavaClasses CLASSES = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.modserv");

  @Test
  void apiDependsOnNothingOfModserv() {
    noClasses().that().resideInAnyPackage("dev.modserv.api..", "dev.modserv.spi..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "dev.modserv.core..", "dev.modserv.onnx..", "dev.modserv.llama..",
            "dev.modserv.tensorflow..", "dev.modserv.http..", "dev.modserv.testkit..")
        .allowEmptyShould(false)
        .check(CLASSES);
  }

  @Test
  void apiDependsOnTheJdkAndJspecifyOnly() {
    noClasses().that().resideInAnyPackage("dev.modserv.api..", "dev.modserv.spi..")
        .should().dependOnClassesThat().resideOutsideOfPackages(
            "java..", "javax..", "org.jspecify..", "dev.modserv.api..", "dev.modserv.spi..")
        .allowEmptyShould(false)
        .check(CLASSES);
  }

  @Test
  void coreDependsOnNoEngineAndNoHttp() {
    noClasses().that().resideInAPackage("dev.modserv.core..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "dev.modserv.onnx..", "dev.modserv.llama..", "dev.modserv.tensorflow..",
            "dev.modserv.http..", "org.eclipse.jetty..", "ai.onnxruntime..", "de.kherud..",
            "org.tensorflow..")
        .allowEmptyShould(false)
        .check(CLASSES);
  }

  @Test
  void publicCorePackageDoesNotLeakInternalTypesInSignatures() {
    // Internal classes may be used inside public ones, but never appear in a public method's
    // parameter or return types: what users see must stay in exported packages.
    CLASSES.stream()
        .filter(c -> c.getPackageName().equals("dev.modserv.core") && c.getModifiers()
            .contains(com.tngtech.archunit.core.domain.JavaModifier.PUBLIC))
        .flatMap(c -> c.getMethods().stream())
        .filter(m -> m.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.PUBLIC))
        .forEach(m -> {
          assertThat(m.getRawReturnType().getPackageName()).as("return type of %s", m.getFullName())
              .doesNotContain(".internal");
          m.getRawParameterTypes().forEach(p -> assertThat(p.getPackageName())
              .as("parameter of %s", m.getFullName()).doesNotContain(".internal"));
        });
  }

  @Test
  void moduleExportsOnlyItsApiAndUsesTheBackendSpi() throws IOException {
    ModuleDescriptor descriptor;
    try (InputStream in = java.nio.file.Files.newInputStream(
        java.nio.file.Path.of("target/classes/module-info.class"))) {
      descriptor = ModuleDescriptor.read(in);
    }
    assertThat(descriptor.name()).isEqualTo("dev.modserv.core");
    Set<String> exports = descriptor.exports().stream().map(ModuleDescriptor.Exports::source)
        .collect(Collectors.toSet());
    assertThat(exports).containsExactly("dev.modserv.core");
    assertThat(descriptor.uses()).containsExactly("dev.modserv.spi.BackendProvider");
  }
}
