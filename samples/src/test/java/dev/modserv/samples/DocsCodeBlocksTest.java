package dev.modserv.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * Every fenced code block in README.md and docs/ is checked or declared not run. A Java block that
 * is a region of a compiled source file of the reactor (indentation aside) is checked where that
 * file's test shows it in the doc. Every other Java block in docs/ is compiled against the published
 * modules, each as the body of a method whose class has
 * the names the docs use without declaring them as fields ({@code server}, {@code modelServer},
 * {@code key}, {@code request}); a line {@code ...} stands for the application's own code. The
 * README's Java block is the samples' EmbeddingExample, compiled and run by EmbeddingExampleTest;
 * its XML block is checked by ReadmeDependencyTest, and docs/tensorflow.md's against the
 * TensorFlow module's pom. Shell, HTTP, JSON, YAML and Python blocks are
 * transcripts and configuration that no test runs (docs/README.md says so).
 */
class DocsCodeBlocksTest {
  private static final Pattern FENCE =
      Pattern.compile("^( *)```(\\w*)\\n(.*?)^\\1```$", Pattern.DOTALL | Pattern.MULTILINE);
  private static final Set<String> NOT_RUN =
      Set.of("", "json", "yaml", "properties", "python", "sh", "bash", "console", "http", "text");

  private record Block(Path file, int line, String language, String code) {
    String name() {
      return file.getFileName() + ":" + line;
    }
  }

  @Test
  void everyBlockIsCompiledCheckedOrDeclaredNotRun() throws IOException {
    List<Block> blocks = blocks();
    assertThat(blocks).hasSizeGreaterThan(50);
    for (Block b : blocks) {
      boolean readme = b.file().getFileName().toString().equals("README.md")
          && b.file().getParent().equals(root());
      if (readme && (b.language().equals("java") || b.language().equals("xml"))
          || b.name().startsWith("tensorflow.md:") && b.language().equals("xml")) {
        continue;
      }
      assertThat(b.language().equals("java") || NOT_RUN.contains(b.language()))
          .as("%s: a '%s' block that no test checks", b.name(), b.language()).isTrue();
    }
  }

  @Test
  void everyJavaBlockInTheDocsCompiles(@TempDir Path out) throws IOException {
    List<JavaFileObject> units = new ArrayList<>();
    List<String> names = new ArrayList<>();
    String sources = compiledSources();
    for (Block b : blocks()) {
      if (b.language().equals("java") && !b.file().getParent().equals(root())
          && !sources.contains(stripped(b.code()))) {
        String className = "Block" + units.size();
        names.add(className + " = " + b.name());
        units.add(source(className, wrap(className, b)));
      }
    }
    assertThat(units).as("docs/ has Java blocks").hasSizeGreaterThanOrEqualTo(10);

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter errors = new StringWriter();
    String classPath = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    boolean compiled = javac.getTask(errors, null, null, List.of("-proc:none", "-d",
        out.toString(), "-cp", classPath, "-Xlint:none"), null, units).call();
    assertThat(compiled).as("%s%n%s", errors, String.join("\n", names)).isTrue();
  }

  @Test
  void tensorflowsOtherPlatformsSnippetNamesWhatTheModuleDependsOn() throws Exception {
    Block snippet = blocks().stream()
        .filter(b -> b.name().startsWith("tensorflow.md:") && b.language().equals("xml"))
        .findFirst().orElseThrow();
    Element xml = parse("<snippet>" + snippet.code() + "</snippet>");
    Element pom = parse(Files.readString(root().resolve("modserv-tensorflow/pom.xml")));
    String tensorflowVersion = pom.getElementsByTagName("tensorflow.version").item(0)
        .getTextContent();

    NodeList dependencies = xml.getElementsByTagName("dependency");
    assertThat(dependencies.getLength()).isEqualTo(2);
    Element module = (Element) dependencies.item(0);
    assertThat(text(module, "artifactId")).isEqualTo("modserv-tensorflow");
    Element excluded = (Element) module.getElementsByTagName("exclusion").item(0);
    assertThat(dependsOn(pom, text(excluded, "groupId"), text(excluded, "artifactId")))
        .as("the module depends on what the snippet excludes").isTrue();
    Element platform = (Element) dependencies.item(1);
    assertThat(text(platform, "groupId")).isEqualTo(text(excluded, "groupId"));
    assertThat(text(platform, "version")).isEqualTo(tensorflowVersion);
  }

  private static boolean dependsOn(Element pom, String groupId, String artifactId) {
    NodeList list = pom.getElementsByTagName("dependency");
    for (int i = 0; i < list.getLength(); i++) {
      Element d = (Element) list.item(i);
      if (text(d, "groupId").equals(groupId) && text(d, "artifactId").equals(artifactId)) {
        return true;
      }
    }
    return false;
  }

  /** The first descendant {@code name}'s text. */
  private static String text(Element parent, String name) {
    return parent.getElementsByTagName(name).item(0).getTextContent().trim();
  }

  private static Element parse(String xml) throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    return factory.newDocumentBuilder().parse(new InputSource(new StringReader(xml)))
        .getDocumentElement();
  }

  private static String wrap(String className, Block b) {
    // A line "..." is the application's code; it keeps its indentation as a comment.
    String body = b.code().replaceAll("(?m)^(\\s*)\\.\\.\\.\\s*$", "$1// ...");
    return """
        import dev.modserv.api.*;
        import dev.modserv.core.*;
        import dev.modserv.grpc.*;
        import dev.modserv.grpc.internal.proto.*;
        import dev.modserv.http.*;
        import dev.modserv.onnx.*;
        import dev.modserv.spi.*;
        import com.google.protobuf.ByteString;
        import io.grpc.*;
        import io.micrometer.observation.ObservationRegistry;
        import java.nio.file.*;
        import java.time.Duration;
        import java.util.*;
        import java.util.List;
        import java.util.Map;
        import java.util.concurrent.TimeUnit;

        /** %s */
        @SuppressWarnings("unused")
        class %s {
          ModelServer server;
          ModelServer modelServer;
          String key;
          InferenceRequest request;

          void run() throws Exception {
        %s
          }
        }
        """.formatted(b.name(), className, body);
  }

  private static JavaFileObject source(String className, String code) {
    return new SimpleJavaFileObject(URI.create("string:///" + className + ".java"),
        JavaFileObject.Kind.SOURCE) {
      @Override
      public CharSequence getCharContent(boolean ignoreEncodingErrors) {
        return code;
      }
    };
  }

  /** Every Java file under a src/ folder of the reactor, each line without its indentation. */
  private static String compiledSources() throws IOException {
    StringBuilder all = new StringBuilder();
    Files.walkFileTree(root(), new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
        String name = dir.getFileName().toString();
        return name.equals("target") || name.startsWith(".") && !dir.equals(root())
            ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (file.toString().endsWith(".java")
            && root().relativize(file).toString().contains("src" + File.separator)) {
          all.append(stripped(Files.readString(file))).append('\n');
        }
        return FileVisitResult.CONTINUE;
      }
    });
    return all.toString();
  }

  private static String stripped(String code) {
    return String.join("\n", code.lines().map(String::strip).toList());
  }

  private static List<Block> blocks() throws IOException {
    List<Path> files = new ArrayList<>(List.of(root().resolve("README.md")));
    try (Stream<Path> docs = Files.walk(root().resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
    }
    List<Block> blocks = new ArrayList<>();
    for (Path file : files) {
      String text = Files.readString(file);
      Matcher m = FENCE.matcher(text);
      while (m.find()) {
        int line = (int) text.substring(0, m.start()).lines().count() + 1;
        String indent = m.group(1);
        String code = m.group(3).replaceAll("(?m)^" + indent, "");
        blocks.add(new Block(file, line, m.group(2), code));
      }
    }
    return blocks;
  }

  private static Path root() {
    return Path.of("..").toAbsolutePath().normalize();
  }
}
