package dev.modserv.tensorflow.internal;

import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.TensorFlow;

/**
 * Loads TensorFlow's native libraries once per process. JavaCPP unpacks them (about 650 MB) into
 * its cache folder on the first load: the system property {@code org.bytedeco.javacpp.cachedir}
 * when set, else the folder asked for with the {@code cache-dir} option, else JavaCPP's default
 * ({@code .javacpp/cache} under the user's home).
 */
public final class NativeRuntime {
  /** JavaCPP's system property for its cache folder. */
  public static final String CACHE_DIR_PROPERTY = "org.bytedeco.javacpp.cachedir";

  private static final Logger LOG = LoggerFactory.getLogger(NativeRuntime.class);
  private static final Object LOCK = new Object();
  private static volatile @Nullable String version;

  private NativeRuntime() {}

  /**
   * Loads the native libraries unless loaded already, and returns TensorFlow's version.
   *
   * @param cacheDir the cache folder asked for, or null
   */
  public static String load(@Nullable Path cacheDir) {
    String v = version;
    if (v != null) {
      warnIfIgnored(cacheDir);
      return v;
    }
    synchronized (LOCK) {
      v = version;
      if (v == null) {
        String set = System.getProperty(CACHE_DIR_PROPERTY);
        if (set == null && cacheDir != null) {
          System.setProperty(CACHE_DIR_PROPERTY, cacheDir.toAbsolutePath().toString());
        } else {
          warnIfIgnored(cacheDir);
        }
        long start = System.nanoTime();
        v = TensorFlow.version();
        LOG.info("TensorFlow {} native libraries loaded in {} ms (JavaCPP cache: {})", v,
            (System.nanoTime() - start) / 1_000_000,
            System.getProperty(CACHE_DIR_PROPERTY, "JavaCPP's default"));
        version = v;
      }
      return v;
    }
  }

  private static void warnIfIgnored(@Nullable Path cacheDir) {
    String set = System.getProperty(CACHE_DIR_PROPERTY);
    if (cacheDir != null && !cacheDir.toAbsolutePath().toString().equals(set)) {
      LOG.warn("tensorflow option 'cache-dir' = {} ignored: the JavaCPP cache folder is "
          + "process-wide and already {}", cacheDir, set == null ? "JavaCPP's default" : set);
    }
  }
}
