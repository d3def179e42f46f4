package dev.modserv.core.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import java.util.Map;
import java.util.Set;

/** Checks a request's inputs against a model's metadata before anything is queued. */
public final class InputValidator {
  private InputValidator() {}

  /**
   * Checks the request against the model's metadata with {@link ModelMetadata#requireAccepts}, the
   * check every engine runs too; the message gains the model's name, since a server holds many.
   *
   * @throws ModelServingException with {@link ErrorCode#INVALID_INPUT} naming the model, the input
   *     and what was expected
   */
  public static void validate(
      String model, ModelMetadata metadata, Map<String, Tensor> inputs, Set<String> outputs) {
    validate(model, metadata, inputs, outputs, false);
  }

  /** As above; with {@code rejectNaN}, a floating-point input holding NaN is refused too. */
  public static void validate(String model, ModelMetadata metadata, Map<String, Tensor> inputs,
      Set<String> outputs, boolean rejectNaN) {
    try {
      metadata.requireAccepts(inputs, outputs);
      if (rejectNaN) {
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
          checkNaN(e.getKey(), e.getValue());
        }
      }
    } catch (ModelServingException e) {
      throw invalid("model '" + model + "': " + e.getMessage());
    }
  }

  private static void checkNaN(String name, Tensor tensor) {
    int index = -1;
    switch (tensor.dataType()) {
      case FP32 -> {
        java.nio.FloatBuffer b = tensor.floatBuffer();
        for (int i = 0; i < b.limit() && index < 0; i++) {
          if (Float.isNaN(b.get(i))) {
            index = i;
          }
        }
      }
      case FP64 -> {
        java.nio.DoubleBuffer b = tensor.doubleBuffer();
        for (int i = 0; i < b.limit() && index < 0; i++) {
          if (Double.isNaN(b.get(i))) {
            index = i;
          }
        }
      }
      case FP16, BF16 -> {
        java.nio.ShortBuffer b = tensor.shortBuffer();
        boolean half = tensor.dataType() == dev.modserv.api.DataType.FP16;
        for (int i = 0; i < b.limit() && index < 0; i++) {
          short bits = b.get(i);
          float value = half ? Float.float16ToFloat(bits) : Float.intBitsToFloat(bits << 16);
          if (Float.isNaN(value)) {
            index = i;
          }
        }
      }
      default -> { }
    }
    if (index >= 0) {
      throw invalid("input '" + name + "' holds NaN at element " + index
          + "; this model's configuration refuses NaN (rejectNaN)");
    }
  }

  private static ModelServingException invalid(String message) {
    return new ModelServingException(ErrorCode.INVALID_INPUT, message);
  }
}
