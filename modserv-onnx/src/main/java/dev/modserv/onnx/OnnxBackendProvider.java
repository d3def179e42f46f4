package dev.modserv.onnx;

import dev.modserv.onnx.internal.ModelFiles;
import dev.modserv.spi.LazyBackendProvider;

/**
 * Announces the ONNX Runtime engine to {@link java.util.ServiceLoader}: it supports {@code .onnx}
 * files and folders holding exactly one. Discovering it is cheap; ONNX Runtime's native library
 * loads when the first model does.
 */
public final class OnnxBackendProvider extends LazyBackendProvider {
  /** Creates the provider; does no native work. */
  public OnnxBackendProvider() {
    super(OnnxBackend.NAME, source -> ModelFiles.isOnnx(source.location()), OnnxBackend::new);
  }
}
