package dev.modserv.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The module runs on the module path beside LangChain4j's automatic module: its descriptor
 * resolves, exports the API package only, and its models are LangChain4j's types there.
 */
class ModulePathTest {
  private static final List<String> JARS = List.of("modserv-api-", "modserv-core-",
      "langchain4j-core-", "jackson-", "micrometer-", "HdrHistogram-", "LatencyUtils-",
      "slf4j-api-", "jspecify-", "caffeine-");
  private static final List<String> REACTOR = List.of("modserv-api", "modserv-core");

  /** What the module needs, from the test class path: jars by name, reactor classes folders. */
  private static Path[] modulePath() {
    List<Path> paths = new ArrayList<>(List.of(Path.of("target", "classes")));
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator, -1)) {
      Path path = Path.of(entry);
      String name = path.getFileName().toString();
      boolean jar = name.endsWith(".jar") && JARS.stream().anyMatch(name::startsWith);
      boolean classes = REACTOR.stream()
          .anyMatch(module -> path.endsWith(Path.of(module, "target", "classes")));
      if (jar || classes) {
        paths.add(path);
      }
    }
    return paths.toArray(Path[]::new);
  }

  @Test
  void theModelsResolveAndLoadInALayerOfTheirOwn() throws Exception {
    ModuleLayer boot = ModuleLayer.boot();
    Configuration config = boot.configuration().resolve(ModuleFinder.of(modulePath()),
        ModuleFinder.of(), Set.of("dev.modserv.langchain4j"));
    ModuleLayer layer = boot.defineModulesWithOneLoader(config,
        ClassLoader.getPlatformClassLoader());
    Module module = layer.findModule("dev.modserv.langchain4j").orElseThrow();
    ModuleDescriptor descriptor = module.getDescriptor();
    assertThat(descriptor.isAutomatic()).isFalse();
    assertThat(descriptor.exports().stream().map(ModuleDescriptor.Exports::source)
        .collect(Collectors.toSet())).containsExactly("dev.modserv.langchain4j");
    assertThat(descriptor.packages()).contains("dev.modserv.langchain4j.internal");

    ClassLoader loader = layer.findLoader("dev.modserv.langchain4j");
    Class<?> chat = loader.loadClass("dev.modserv.langchain4j.ModservChatModel");
    Class<?> chatModel = loader.loadClass("dev.langchain4j.model.chat.ChatModel");
    assertThat(chatModel.getModule().getName()).isEqualTo("langchain4j.core");
    assertThat(chatModel).isAssignableFrom(chat);
    Object builder = chat.getMethod("builder").invoke(null);
    assertThat(builder.getClass().getModule()).isEqualTo(module);
  }
}
