package dev.modserv.tensorflow;

import dev.modserv.spi.LazyBackendProvider;
import dev.modserv.tensorflow.internal.SavedModels;

/**
 * Announces the TensorFlow Java engine to {@link java.util.ServiceLoader}: it supports SavedModel
 * folders (a {@code saved_model.pb} and a {@code variables/} folder). Discovering it is cheap;
 * TensorFlow's native libraries load when the first model does.
 */
public final class TensorFlowBackendProvider extends LazyBackendProvider {
  /** Creates the provider; does no native work. */
  public TensorFlowBackendProvider() {
    super(TensorFlowBackend.NAME, source -> SavedModels.isSavedModel(source.location()),
        TensorFlowBackend::new);
  }
}
