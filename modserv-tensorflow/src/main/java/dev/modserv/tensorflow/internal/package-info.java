/** The TensorFlow engine's internals: options, native loading, tensor conversion, the model. */
@NullMarked
package dev.modserv.tensorflow.internal;

import org.jspecify.annotations.NullMarked;
