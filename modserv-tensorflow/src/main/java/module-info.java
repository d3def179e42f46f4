/**
 * The TensorFlow Java engine: serves SavedModel folders through one of their signatures.
 */
@org.jspecify.annotations.NullMarked
module dev.modserv.tensorflow {
  requires transitive dev.modserv.api;
  requires tensorflow;
  requires tensorflow.nativelib;
  requires org.tensorflow.ndarray;
  requires org.slf4j;
  requires static org.jspecify;

  exports dev.modserv.tensorflow;

  provides dev.modserv.spi.BackendProvider with
      dev.modserv.tensorflow.TensorFlowBackendProvider;
}
