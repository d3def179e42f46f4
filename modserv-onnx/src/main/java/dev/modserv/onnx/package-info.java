/**
 * The ONNX Runtime engine: {@link dev.modserv.onnx.OnnxBackendProvider} (found through {@link
 * java.util.ServiceLoader}) and {@link dev.modserv.onnx.OnnxBackend} (passed to a model server's
 * builder, with engine-wide default options). See {@code docs/onnx.md} for the options.
 */
@NullMarked
package dev.modserv.onnx;

import org.jspecify.annotations.NullMarked;
