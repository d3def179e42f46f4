package dev.modserv.tensorflow;

import dev.modserv.spi.Backend;
import dev.modserv.spi.BackendProvider;
import dev.modserv.spi.ModelSource;
import dev.modserv.tensorflow.internal.SavedModels;
import org.jspecify.annotations.Nullable;

/**
 * Announces the TensorFlow Java engine to {@link java.util.ServiceLoader}: it supports SavedModel
 * folders (a {@code saved_model.pb} and a {@code variables/} folder). Discovering it is cheap;
 * TensorFlow's native libraries load when the first model does.
 */
public final class TensorFlowBackendProvider implements BackendProvider {
  private volatile @Nullable TensorFlowBackend backend;

  /** Creates the provider; does no native work. */
  public TensorFlowBackendProvider() {}

  @Override
  public String name() {
    return TensorFlowBackend.NAME;
  }

  @Override
  public boolean supports(ModelSource source) {
    return SavedModels.isSavedModel(source.location());
  }

  @Override
  public Backend backend() {
    TensorFlowBackend b = backend;
    if (b == null) {
      synchronized (this) {
        b = backend;
        if (b == null) {
          b = new TensorFlowBackend();
          backend = b;
        }
      }
    }
    return b;
  }
}
