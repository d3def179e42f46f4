package dev.modserv.onnx;

import dev.modserv.onnx.internal.ModelFiles;
import dev.modserv.spi.Backend;
import dev.modserv.spi.BackendProvider;
import dev.modserv.spi.ModelSource;
import org.jspecify.annotations.Nullable;

/**
 * Announces the ONNX Runtime engine to {@link java.util.ServiceLoader}: it supports {@code .onnx}
 * files and folders holding exactly one. Discovering it is cheap; ONNX Runtime's native library
 * loads when the first model does.
 */
public final class OnnxBackendProvider implements BackendProvider {
  private volatile @Nullable OnnxBackend backend;

  /** Creates the provider; does no native work. */
  public OnnxBackendProvider() {}

  @Override
  public String name() {
    return OnnxBackend.NAME;
  }

  @Override
  public boolean supports(ModelSource source) {
    return ModelFiles.isOnnx(source.location());
  }

  @Override
  public Backend backend() {
    OnnxBackend b = backend;
    if (b == null) {
      synchronized (this) {
        b = backend;
        if (b == null) {
          b = new OnnxBackend();
          backend = b;
        }
      }
    }
    return b;
  }
}
