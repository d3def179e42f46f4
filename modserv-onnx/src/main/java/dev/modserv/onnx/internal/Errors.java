package dev.modserv.onnx.internal;

import ai.onnxruntime.OrtException;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelServingException;

/** Turns ONNX Runtime failures into modserv errors. */
final class Errors {
  private Errors() {}

  /**
   * Returns INVALID_INPUT for values ONNX Runtime refuses (its INVALID_ARGUMENT), else the
   * exception itself, which the server reports as BACKEND_ERROR.
   */
  static Exception translate(OrtException e) {
    if (e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT) {
      return new ModelServingException(
          ErrorCode.INVALID_INPUT, "ONNX Runtime refused the inputs: " + e.getMessage(), e);
    }
    return e;
  }
}
