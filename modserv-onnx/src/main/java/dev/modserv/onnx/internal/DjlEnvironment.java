package dev.modserv.onnx.internal;

import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the tokenizer library (DJL) offline and inside one folder. By default DJL sends usage
 * telemetry on its first load and writes to the user's home folder; before the first tokenizer
 * loads, this sets, unless the user already set them as system properties or environment
 * variables: {@code ai.djl.offline=true}, {@code OPT_OUT_TRACKING=true}, {@code DJL_CACHE_DIR} and
 * {@code jna.tmpdir} (both under the cache folder). DJL reads them once per process, so the first
 * embedding model's {@code cache-dir} wins.
 */
public final class DjlEnvironment {
  private static final Logger LOG = LoggerFactory.getLogger(DjlEnvironment.class);
  private static boolean prepared;

  private DjlEnvironment() {}

  /** Returns the default cache folder: {@code modserv-djl} under {@code java.io.tmpdir}. */
  public static Path defaultCacheDir() {
    return Path.of(System.getProperty("java.io.tmpdir"), "modserv-djl");
  }

  /** Sets the properties once per process; later calls do nothing. */
  public static synchronized void prepare(Path cacheDir) {
    if (prepared) {
      return;
    }
    prepared = true;
    setUnlessSet("ai.djl.offline", "DJL_OFFLINE", "true");
    setUnlessSet("OPT_OUT_TRACKING", "OPT_OUT_TRACKING", "true");
    setUnlessSet("DJL_CACHE_DIR", "DJL_CACHE_DIR", cacheDir.toAbsolutePath().toString());
    setUnlessSet("jna.tmpdir", null, cacheDir.resolve("jna").toAbsolutePath().toString());
    LOG.debug("tokenizer library: offline, cache folder {}", System.getProperty("DJL_CACHE_DIR"));
  }

  private static void setUnlessSet(String property, @Nullable String env, String value) {
    if (System.getProperty(property) != null || env != null && System.getenv(env) != null) {
      return;
    }
    System.setProperty(property, value);
  }
}
