package dev.modserv.release;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;

/**
 * What a user of a release gets. A Maven process deploys every published module (a module of the
 * reactor whose pom does not set {@code maven.deploy.skip}) with the {@code release} profile into
 * a file repository under target/; the deployed files are checked; then a second Maven process
 * builds a user's project that imports the BOM as the README says and runs the README's example.
 *
 * <p>How the user's build is kept from finding modserv anywhere but in that file repository: it is
 * a separate Maven process whose only project is the app (no reactor); its local repository is a
 * fresh folder that links every top-level group of the developer's local repository (third-party
 * artifacts, already downloaded) except {@code dev/modserv}, so it starts with no modserv artifact;
 * the version is a SNAPSHOT, which Maven Central (snapshots disabled) never serves. The test then
 * asserts that the classes the example ran with were loaded from that fresh {@code dev/modserv}
 * folder and that Maven recorded the file repository as where they came from.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReleaseRepositoryTest {
  private static final String REPOSITORY_ID = "modserv-release";
  private static final Path ROOT = Path.of(System.getProperty("modserv.repo.root")).normalize();
  private static final Path TARGET = Path.of("target").toAbsolutePath();
  private static final Path REPOSITORY = TARGET.resolve("release-repository");
  private static final Path APP = TARGET.resolve("app");
  private static final Path APP_LOCAL_REPOSITORY = TARGET.resolve("app-local-repository");

  private static String version = "";
  private static final List<String> published = new ArrayList<>();

  @BeforeAll
  static void readTheReactor() throws IOException {
    Element root = parse(Files.readString(ROOT.resolve("pom.xml")));
    version = text(root, "version");
    for (Element module : children(child(root, "modules"), "module")) {
      Element pom = parse(Files.readString(ROOT.resolve(module.getTextContent().trim())
          .resolve("pom.xml")));
      if (!text(optionalChild(pom, "properties"), "maven.deploy.skip").equals("true")) {
        published.add(module.getTextContent().trim());
      }
    }
  }

  @Test
  @Order(1)
  void theReleaseBuildDeploysEveryPublishedModuleWithSourcesJavadocAndAFlatPom() throws Exception {
    assertThat(published).contains("modserv-bom", "modserv-api", "modserv-core", "modserv-onnx")
        .doesNotContain("modserv-it", "samples", "benchmarks", "docs", "release-test");
    deleteRecursively(REPOSITORY);
    maven(ROOT, TARGET.resolve("release-build.log"), "-P", "release", "deploy",
        "-Dmaven.test.skip=true", "-pl", String.join(",", published),
        "-DaltDeploymentRepository=" + REPOSITORY_ID + "::" + REPOSITORY.toUri(),
        "-Dmaven.repo.local=" + System.getProperty("modserv.local.repository"));

    for (String module : published) {
      String artifactId = text(parse(Files.readString(ROOT.resolve(module).resolve("pom.xml"))),
          "artifactId");
      Path dir = REPOSITORY.resolve("dev/modserv").resolve(artifactId).resolve(version);
      Element pom = parse(Files.readString(deployed(dir, artifactId, ".pom")));
      assertThat(optionalChild(pom, "parent")).as(artifactId + ": no parent").isNull();
      assertThat(optionalChild(pom, "properties")).as(artifactId + ": no properties").isNull();
      assertThat(optionalChild(pom, "build")).as(artifactId + ": no build").isNull();
      assertThat(text(pom, "name")).isNotEmpty();
      assertThat(text(pom, "description")).isNotEmpty();
      assertThat(text(pom, "url")).startsWith("https://");
      assertThat(text(child(child(pom, "licenses"), "license"), "name")).isEqualTo("Apache-2.0");
      assertThat(text(child(pom, "scm"), "connection")).startsWith("scm:git:");
      assertThat(text(child(child(pom, "developers"), "developer"), "name")).isNotEmpty();
      assertThat(pom.getTextContent()).as(artifactId + ": nothing left to interpolate")
          .doesNotContain("${");
      if (text(pom, "packaging").equals("pom")) {
        assertThat(children(child(child(pom, "dependencyManagement"), "dependencies"),
            "dependency")).as(artifactId).isNotEmpty();
        continue;
      }
      for (Element dependency : children(optionalChild(pom, "dependencies"), "dependency")) {
        assertThat(text(dependency, "version")).as(artifactId + " -> "
            + text(dependency, "artifactId")).isNotEmpty();
      }
      try (JarFile jar = new JarFile(deployed(dir, artifactId, ".jar").toFile())) {
        assertThat(jar.getEntry("module-info.class") != null
            || jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name") != null)
            .as(artifactId + ": a module-info or an Automatic-Module-Name").isTrue();
      }
      try (JarFile sources = new JarFile(deployed(dir, artifactId, "-sources.jar").toFile())) {
        assertThat(sources.stream().anyMatch(e -> e.getName().endsWith(".java")))
            .as(artifactId + " sources").isTrue();
      }
      try (JarFile javadoc = new JarFile(deployed(dir, artifactId, "-javadoc.jar").toFile())) {
        assertThat(javadoc.getEntry("index.html")).as(artifactId + " javadoc").isNotNull();
      }
    }
  }

  @Test
  @Order(2)
  void anAppResolvesModservFromTheFileRepositoryOnlyAndRunsTheReadmeExample() throws Exception {
    assertThat(REPOSITORY.resolve("dev/modserv/modserv-bom")).as("deployed by the test before")
        .isDirectory();
    deleteRecursively(APP);
    deleteRecursively(APP_LOCAL_REPOSITORY);
    linkThirdPartyArtifacts(Path.of(System.getProperty("modserv.local.repository")),
        APP_LOCAL_REPOSITORY);
    writeApp();

    maven(APP, TARGET.resolve("app-build.log"), "verify",
        "-Dmaven.repo.local=" + APP_LOCAL_REPOSITORY);

    Path modserv = APP_LOCAL_REPOSITORY.resolve("dev/modserv").toRealPath();
    List<String> locations = Files.readAllLines(APP.resolve("target/modserv-locations.txt"));
    assertThat(locations).hasSize(3).allSatisfy(location -> {
      Path jar = realPath(Path.of(location));
      assertThat(jar).as("loaded from the app's own local repository").startsWith(modserv);
      String artifactId = jar.getParent().getParent().getFileName().toString();
      try {
        // The very jar that was deployed (Maven keeps the timestamped download and a copy
        // under the SNAPSHOT name), and Maven's record says it came from the file repository.
        Path deployed = deployed(REPOSITORY.resolve("dev/modserv").resolve(artifactId)
            .resolve(version), artifactId, ".jar");
        assertThat(Files.mismatch(jar, deployed)).as(jar + " is " + deployed).isEqualTo(-1);
        assertThat(Files.readString(jar.resolveSibling("_remote.repositories")))
            .contains(deployed.getFileName() + ">" + REPOSITORY_ID + "=");
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    });
    try (Stream<Path> files = Files.walk(modserv)) {
      assertThat(files.map(p -> p.getFileName().toString())
          .filter(name -> name.startsWith("maven-metadata-") && name.endsWith(".xml")).distinct())
          .as("snapshot metadata, from the file repository only")
          .containsOnly("maven-metadata-" + REPOSITORY_ID + ".xml");
    }
  }

  /** The app: the README's dependency snippet and its example, with a test that runs it. */
  private static void writeApp() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    String snippet = block(readme, "xml");
    int end = snippet.lastIndexOf("</dependencies>");
    snippet = snippet.substring(0, end) + """
          <dependency>
            <groupId>org.junit.jupiter</groupId>
            <artifactId>junit-jupiter</artifactId>
            <version>%s</version>
            <scope>test</scope>
          </dependency>
        """.formatted(System.getProperty("modserv.junit.version")) + snippet.substring(end);

    Path template = Path.of("src/test/resources/app");
    String pom = Files.readString(template.resolve("pom.xml"))
        .replace("@repository.url@", REPOSITORY.toUri().toString())
        .replace("@readme.snippet@", snippet);
    for (Map.Entry<String, String> plugin : pluginVersions().entrySet()) {
      pom = pom.replace("@" + plugin.getKey() + ".version@", plugin.getValue());
    }
    assertThat(pom).doesNotContainPattern("@[a-z.-]+@");
    Files.createDirectories(APP.resolve("src/main/java/app"));
    Files.createDirectories(APP.resolve("src/test/java/app"));
    Files.writeString(APP.resolve("pom.xml"), pom);
    Files.writeString(APP.resolve("src/main/java/app/ReadmeExample.java"), """
        package app;

        import dev.modserv.core.ModelServer;
        import dev.modserv.onnx.AllMiniLmL6V2;
        import java.nio.file.Path;
        import java.util.List;

        /** The README's example, as the README shows it. */
        public final class ReadmeExample {
          public static float[][] embed(Path cacheDir, List<String> texts) {
        %s
          }
        }
        """.formatted(block(readme, "java")));
    Files.copy(template.resolve("ReadmeExampleTest.java"),
        APP.resolve("src/test/java/app/ReadmeExampleTest.java"));
  }

  /** The plugin versions the build itself uses, so that the app's build downloads none. */
  private static Map<String, String> pluginVersions() throws IOException {
    Element root = parse(Files.readString(ROOT.resolve("pom.xml")));
    Map<String, String> versions = new HashMap<>();
    for (Element plugin : children(child(child(child(root, "build"), "pluginManagement"),
        "plugins"), "plugin")) {
      versions.put(text(plugin, "artifactId"), text(plugin, "version"));
    }
    return versions;
  }

  /**
   * Makes {@code local} a local repository holding, through links, everything of {@code
   * developers} but the modserv artifacts: third-party artifacts need no download, and anything
   * downloaded lands in the developer's repository as usual.
   */
  private static void linkThirdPartyArtifacts(Path developers, Path local) throws IOException {
    Files.createDirectories(local.resolve("dev"));
    try (Stream<Path> groups = Files.list(developers)) {
      for (Path group : groups.toList()) {
        if (!group.getFileName().toString().equals("dev")) {
          Files.createSymbolicLink(local.resolve(group.getFileName().toString()), group);
        }
      }
    }
    Path dev = developers.resolve("dev");
    if (Files.isDirectory(dev)) {
      try (Stream<Path> groups = Files.list(dev)) {
        for (Path group : groups.toList()) {
          if (!group.getFileName().toString().equals("modserv")) {
            Files.createSymbolicLink(local.resolve("dev").resolve(group.getFileName().toString()),
                group);
          }
        }
      }
    }
    assertThat(local.resolve("dev/modserv")).doesNotExist();
  }

  private static void maven(Path dir, Path log, String... args) throws Exception {
    // Never -o, even when the build runs offline: the deploy plugin refuses to deploy offline.
    // Both builds find all they need in the local repository and download nothing.
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("modserv.maven.home"), "bin", "mvn").toString(), "-B", "-ntp"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean done = process.waitFor(10, TimeUnit.MINUTES);
    if (!done) {
      process.destroyForcibly();
    }
    if (!done || process.exitValue() != 0) {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      throw new AssertionError(String.join(" ", command) + (done ? " failed" : " timed out")
          + "; its log, " + log + ", ends:\n"
          + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())));
    }
  }

  /** The one deployed file of {@code artifactId} that ends with {@code suffix}. */
  private static Path deployed(Path dir, String artifactId, String suffix) throws IOException {
    Pattern name = Pattern.compile(Pattern.quote(artifactId + "-" + version.replace("-SNAPSHOT",
        "")) + "-\\d{8}\\.\\d{6}-\\d+" + Pattern.quote(suffix));
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> found = files.filter(p -> name.matcher(p.getFileName().toString()).matches())
          .toList();
      assertThat(found).as(dir + ": " + name).hasSize(1);
      return found.get(0);
    }
  }

  private static Path realPath(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      throw new AssertionError(p + ": " + e, e);
    }
  }

  private static String block(String markdown, String language) {
    Matcher m = Pattern.compile("```" + language + "\n(.*?)```", Pattern.DOTALL).matcher(markdown);
    assertThat(m.find()).as("a %s block in the README", language).isTrue();
    return m.group(1);
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    // Links are deleted, never followed: the app's local repository links the developer's.
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static Element parse(String xml) {
    try {
      DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
      factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      return factory.newDocumentBuilder().parse(new InputSource(new StringReader(xml)))
          .getDocumentElement();
    } catch (Exception e) {
      throw new AssertionError("not XML: " + e.getMessage(), e);
    }
  }

  private static Element child(Element parent, String name) {
    Element e = optionalChild(parent, name);
    assertThat(e).as("<%s> has <%s>", parent.getTagName(), name).isNotNull();
    return e;
  }

  private static Element optionalChild(Element parent, String name) {
    if (parent != null) {
      for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
        if (n instanceof Element e && e.getTagName().equals(name)) {
          return e;
        }
      }
    }
    return null;
  }

  private static List<Element> children(Element parent, String name) {
    List<Element> found = new ArrayList<>();
    if (parent != null) {
      for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
        if (n instanceof Element e && e.getTagName().equals(name)) {
          found.add(e);
        }
      }
    }
    return found;
  }

  private static String text(Element parent, String name) {
    Element e = optionalChild(parent, name);
    return e == null ? "" : e.getTextContent().trim();
  }
}
