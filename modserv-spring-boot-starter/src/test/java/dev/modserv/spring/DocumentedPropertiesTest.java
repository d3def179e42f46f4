package dev.modserv.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * docs/spring-boot.md's property table, the configuration metadata an IDE completes from, the
 * properties' classes and {@link PropertiesBindingTest}'s settings name the same properties.
 */
class DocumentedPropertiesTest {
  private static final Pattern ROW = Pattern.compile("^\\| `(modserv\\.[^`]+)` \\|",
      Pattern.MULTILINE);

  private static Set<String> documented() throws Exception {
    String doc = Files.readString(Path.of("../docs/spring-boot.md"));
    Set<String> names = new TreeSet<>();
    Matcher m = ROW.matcher(doc);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /** The metadata the processor wrote for this module (not another jar's). */
  private static JsonNode metadata() throws Exception {
    for (URL url : Collections.list(DocumentedPropertiesTest.class.getClassLoader()
        .getResources("META-INF/spring-configuration-metadata.json"))) {
      try (InputStream in = url.openStream()) {
        JsonNode json = Fixtures.JSON.readTree(in);
        if (json.get("groups").findValuesAsText("name").contains("modserv")) {
          return json;
        }
      }
    }
    throw new AssertionError("no configuration metadata for modserv");
  }

  /** The kebab-case names of a properties class's bean properties. */
  private static Set<String> beanProperties(Class<?> type) {
    return Arrays.stream(type.getMethods())
        .filter(m -> m.getDeclaringClass() == type && m.getParameterCount() == 0)
        .map(Method::getName)
        .filter(n -> n.startsWith("get") || n.startsWith("is"))
        .map(n -> n.substring(n.startsWith("get") ? 3 : 2))
        .map(n -> n.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void theTableIsTheMetadataAndTheModelSettings() throws Exception {
    Set<String> expected = new TreeSet<>();
    for (JsonNode p : metadata().get("properties")) {
      String name = p.get("name").asText();
      if (!name.equals("modserv.models")) {
        expected.add(name);
      }
    }
    for (String p : beanProperties(ModservProperties.Model.class)) {
      switch (p) {
        case "batching" -> beanProperties(ModservProperties.Batching.class)
            .forEach(b -> expected.add("modserv.models.<name>.batching." + b));
        case "engine-options" -> expected.add("modserv.models.<name>.engine-options.<option>");
        default -> expected.add("modserv.models.<name>." + p);
      }
    }
    assertThat(documented()).isEqualTo(expected);
  }

  @Test
  void theDependencySnippetNamesModulesOfTheBom() throws Exception {
    String doc = Files.readString(Path.of("../docs/spring-boot.md"));
    String bom = Files.readString(Path.of("../modserv-bom/pom.xml"));
    Matcher snippet = Pattern.compile("```\\n(<dependency>.*?)```", Pattern.DOTALL).matcher(doc);
    assertThat(snippet.find()).as("the dependency snippet").isTrue();
    Matcher artifacts = Pattern.compile("<groupId>([^<]+)</groupId>\\s*<artifactId>([^<]+)"
        + "</artifactId>\\s*</dependency>").matcher(snippet.group(1));
    Set<String> named = new TreeSet<>();
    while (artifacts.find()) {
      named.add(artifacts.group(1) + ":" + artifacts.group(2));
    }
    assertThat(named).containsExactly("dev.modserv:modserv-onnx",
        "dev.modserv:modserv-spring-boot-starter");
    for (String ga : named) {
      String artifactId = ga.substring(ga.indexOf(':') + 1);
      assertThat(bom).as("modserv-bom manages " + ga)
          .contains("<groupId>dev.modserv</groupId><artifactId>" + artifactId + "</artifactId>");
    }
  }

  @Test
  void theBindingTestSetsEveryDocumentedProperty() throws Exception {
    Set<String> set = new TreeSet<>();
    for (String p : PropertiesBindingTest.class.getAnnotation(SpringBootTest.class).properties()) {
      set.add(p.substring(0, p.indexOf('='))
          .replaceFirst("^modserv\\.models\\.[a-z]+\\.", "modserv.models.<name>.")
          .replaceFirst("engine-options\\..*$", "engine-options.<option>"));
    }
    // Set in its @DynamicPropertySource: paths known only at run time.
    set.add("modserv.repository");
    set.add("modserv.models.<name>.path");
    assertThat(set).isEqualTo(documented());
  }
}
