/** The ONNX Runtime engine's internals: options, tensor conversion, the two model kinds. */
@NullMarked
package dev.modserv.onnx.internal;

import org.jspecify.annotations.NullMarked;
