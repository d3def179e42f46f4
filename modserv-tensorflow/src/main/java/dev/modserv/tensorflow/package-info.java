/**
 * The TensorFlow Java engine: {@link dev.modserv.tensorflow.TensorFlowBackendProvider} (found
 * through {@link java.util.ServiceLoader}) and {@link dev.modserv.tensorflow.TensorFlowBackend}
 * (passed to a model server's builder, with engine-wide default options). See {@code
 * docs/tensorflow.md} for the options.
 */
@NullMarked
package dev.modserv.tensorflow;

import org.jspecify.annotations.NullMarked;
