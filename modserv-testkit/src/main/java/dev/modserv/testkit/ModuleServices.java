package dev.modserv.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.module.ModuleDescriptor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * Checks that a module registers its service providers twice and alike: in {@code module-info}
 * ({@code provides S with P1, P2}), which the module path reads, and in {@code
 * META-INF/services/S}, which the class path reads. A module's test calls, for example:
 *
 * <pre>{@code
 * ModuleServices.assertConsistent(Path.of("target/classes"));
 * }</pre>
 */
public final class ModuleServices {
  private static final String SERVICES = "META-INF/services/";
  private static final String MODULE_INFO = "module-info.class";

  private ModuleServices() {}

  /**
   * Reads {@code module-info.class} and every file under {@code META-INF/services/} from a classes
   * folder or a jar (a multi-release jar's {@code module-info} for this JVM), and checks them with
   * {@link #assertConsistent(ModuleDescriptor, Map)}.
   *
   * @throws AssertionError when they disagree, naming every difference, or when there is no {@code
   *     module-info.class}
   * @throws UncheckedIOException when a file cannot be read
   */
  public static void assertConsistent(Path classesDirOrJar) {
    try {
      if (Files.isDirectory(classesDirOrJar)) {
        assertConsistentDirectory(classesDirOrJar);
      } else if (Files.isRegularFile(classesDirOrJar)) {
        assertConsistentJar(classesDirOrJar);
      } else {
        throw new AssertionError("no such folder or jar: " + classesDirOrJar);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + classesDirOrJar, e);
    }
  }

  private static void assertConsistentDirectory(Path dir) throws IOException {
    Path moduleInfo = dir.resolve(MODULE_INFO);
    if (!Files.isRegularFile(moduleInfo)) {
      throw new AssertionError("no " + MODULE_INFO + " in " + dir);
    }
    ModuleDescriptor descriptor;
    try (InputStream in = Files.newInputStream(moduleInfo)) {
      descriptor = ModuleDescriptor.read(in);
    }
    Map<String, Set<String>> files = new TreeMap<>();
    Path services = dir.resolve(SERVICES);
    if (Files.isDirectory(services)) {
      try (Stream<Path> list = Files.list(services)) {
        for (Path file : list.filter(Files::isRegularFile).toList()) {
          files.put(
              String.valueOf(file.getFileName()),
              providers(Files.readString(file, StandardCharsets.UTF_8)));
        }
      }
    }
    assertConsistent(descriptor, files);
  }

  private static void assertConsistentJar(Path path) throws IOException {
    try (JarFile jar = new JarFile(path.toFile(), true, ZipFile.OPEN_READ, Runtime.version())) {
      JarEntry moduleInfo = jar.getJarEntry(MODULE_INFO);
      if (moduleInfo == null) {
        throw new AssertionError("no " + MODULE_INFO + " in " + path);
      }
      ModuleDescriptor descriptor;
      try (InputStream in = jar.getInputStream(moduleInfo)) {
        descriptor = ModuleDescriptor.read(in);
      }
      Map<String, Set<String>> files = new TreeMap<>();
      for (JarEntry entry : jar.stream().toList()) {
        String name = entry.getName();
        if (entry.isDirectory()
            || !name.startsWith(SERVICES)
            || name.length() == SERVICES.length()
            || name.indexOf('/', SERVICES.length()) >= 0) {
          continue;
        }
        try (InputStream in = jar.getInputStream(entry)) {
          files.put(
              name.substring(SERVICES.length()),
              providers(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        }
      }
      assertConsistent(descriptor, files);
    }
  }

  /**
   * Parses a services file as {@link java.util.ServiceLoader} does: one name a line, # comments.
   */
  private static Set<String> providers(String text) {
    Set<String> names = new TreeSet<>();
    for (String line : text.lines().toList()) {
      int hash = line.indexOf('#');
      String name = (hash >= 0 ? line.substring(0, hash) : line).strip();
      if (!name.isEmpty()) {
        names.add(name);
      }
    }
    return names;
  }

  /**
   * Checks that, for every service, the providers {@code descriptor} {@code provides} are the class
   * names its services file lists, ignoring order and duplicates. A services file for a service the
   * module does not provide is a difference, and so is a {@code provides} without a services file.
   *
   * @param descriptor the module's descriptor
   * @param servicesFiles the class names each file under {@code META-INF/services/} lists, by file
   *     name (the service's binary name)
   * @throws AssertionError naming the module and every difference, one a line
   */
  public static void assertConsistent(
      ModuleDescriptor descriptor, Map<String, Set<String>> servicesFiles) {
    Map<String, Set<String>> provided = new TreeMap<>();
    for (ModuleDescriptor.Provides p : descriptor.provides()) {
      provided.put(p.service(), new TreeSet<>(p.providers()));
    }
    Set<String> services = new TreeSet<>(provided.keySet());
    services.addAll(servicesFiles.keySet());
    List<String> problems = new ArrayList<>();
    for (String service : services) {
      Set<String> declared = provided.get(service);
      Set<String> listedOrNull = servicesFiles.get(service);
      Set<String> listed = listedOrNull == null ? null : new TreeSet<>(listedOrNull);
      if (declared == null) {
        problems.add(
            SERVICES
                + service
                + " lists "
                + listed
                + " but module-info has no 'provides "
                + service
                + "'");
      } else if (listed == null) {
        problems.add(
            "module-info provides "
                + service
                + " with "
                + declared
                + " but there is no "
                + SERVICES
                + service);
      } else if (!declared.equals(listed)) {
        Set<String> onlyDeclared = new TreeSet<>(declared);
        onlyDeclared.removeAll(listed);
        Set<String> onlyListed = new TreeSet<>(listed);
        onlyListed.removeAll(declared);
        problems.add(
            service
                + ": only in module-info "
                + onlyDeclared
                + ", only in "
                + SERVICES
                + service
                + " "
                + onlyListed);
      }
    }
    if (!problems.isEmpty()) {
      throw new AssertionError(
          "module "
              + descriptor.name()
              + ": module-info and META-INF/services disagree:\n  - "
              + String.join("\n  - ", problems));
    }
  }
}
