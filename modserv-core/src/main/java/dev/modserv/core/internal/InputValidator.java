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

  /**
   * Refuses a request larger than its model takes: more elements than {@code maxElements} over
   * all inputs, or more than {@code maxTextBytes} bytes of UTF-8 text over all STRING elements.
   *
   * @throws ModelServingException with {@link ErrorCode#PAYLOAD_TOO_LARGE} naming the limit
   */
  public static void checkSize(String model, Map<String, Tensor> inputs, long maxElements,
      long maxTextBytes) {
    long elements = 0;
    long textBytes = 0;
    for (Tensor t : inputs.values()) {
      elements += t.elementCount();   // each count is an int: the sum of a few cannot overflow
      if (t.dataType() == dev.modserv.api.DataType.STRING) {
        for (String s : t.strings()) {
          textBytes += utf8Length(s, maxTextBytes - textBytes);
          if (textBytes > maxTextBytes) {
            throw tooMuchText(model, maxTextBytes);
          }
        }
      }
    }
    if (elements > maxElements) {
      throw new ModelServingException(ErrorCode.PAYLOAD_TOO_LARGE, "model '" + model
          + "' takes at most " + maxElements + " elements per request (max-elements); this one"
          + " has " + elements + ": send fewer rows per request");
    }
  }

  /** Refuses a generation whose prompt and messages hold more than {@code maxTextBytes}. */
  public static void checkText(String model, Iterable<String> texts, long maxTextBytes) {
    long textBytes = 0;
    for (String s : texts) {
      textBytes += utf8Length(s, maxTextBytes - textBytes);
      if (textBytes > maxTextBytes) {
        throw tooMuchText(model, maxTextBytes);
      }
    }
  }

  private static ModelServingException tooMuchText(String model, long maxTextBytes) {
    return new ModelServingException(ErrorCode.PAYLOAD_TOO_LARGE, "model '" + model
        + "' takes at most " + maxTextBytes + " bytes of text per request (max-text-bytes);"
        + " this one has more: send shorter or fewer texts");
  }

  /** The UTF-8 length of {@code s}, counted only until it passes {@code limit}. */
  private static long utf8Length(String s, long limit) {
    if (s.length() > limit) {
      return s.length();   // at least one byte per char: over the limit already
    }
    long bytes = 0;
    for (int i = 0; i < s.length() && bytes <= limit; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes++;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
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
