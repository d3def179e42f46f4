package dev.modserv.core.internal;

import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Checks a request's inputs against a model's metadata before anything is queued. */
public final class InputValidator {
  private InputValidator() {}

  /**
   * Checks names, types, ranks, fixed dimensions, a shared batch dimension for batchable models,
   * and the names of the outputs asked for.
   *
   * @throws ModelServingException with {@link ErrorCode#INVALID_INPUT} naming the input and what
   *     was expected
   */
  public static void validate(
      String model, ModelMetadata metadata, Map<String, Tensor> inputs, Set<String> outputs) {
    validate(model, metadata, inputs, outputs, false);
  }

  /** As above; with {@code rejectNaN}, a floating-point input holding NaN is refused too. */
  public static void validate(String model, ModelMetadata metadata, Map<String, Tensor> inputs,
      Set<String> outputs, boolean rejectNaN) {
    for (String name : inputs.keySet()) {
      if (metadata.input(name).isEmpty()) {
        throw invalid("model '" + model + "' has no input '" + name + "'; it takes "
            + names(metadata.inputs()));
      }
    }
    boolean batchable = metadata.has(dev.modserv.api.Capability.BATCHABLE);
    String firstName = null;
    long firstRows = -1;
    for (TensorSpec spec : metadata.inputs()) {
      Tensor tensor = inputs.get(spec.name());
      if (tensor == null) {
        throw invalid("model '" + model + "': missing input '" + spec.name() + "' (" + spec + ")");
      }
      checkOne(spec, tensor);
      if (rejectNaN) {
        checkNaN(spec.name(), tensor);
      }
      if (batchable && tensor.rank() > 0 && tensor.dim(0) == 0) {
        throw invalid("input '" + spec.name() + "' has 0 rows; send at least one row");
      }
      if (batchable && tensor.rank() > 0) {
        if (firstName == null) {
          firstName = spec.name();
          firstRows = tensor.dim(0);
        } else if (tensor.dim(0) != firstRows) {
          throw invalid("input '" + spec.name() + "' has " + tensor.dim(0) + " rows but input '"
              + firstName + "' has " + firstRows + "; every input of a batch has the same rows");
        }
      }
    }
    for (String name : outputs) {
      if (metadata.output(name).isEmpty()) {
        throw invalid("model '" + model + "' has no output '" + name + "'; it gives "
            + names(metadata.outputs()));
      }
    }
  }

  private static void checkOne(TensorSpec spec, Tensor tensor) {
    String name = spec.name();
    if (tensor.dataType() != spec.dataType()) {
      throw invalid("input '" + name + "': expected " + spec.dataType() + ", got "
          + tensor.dataType());
    }
    if (!spec.isRankKnown()) {
      return;
    }
    long[] expected = spec.shape();
    long[] actual = tensor.shape();
    if (expected.length != actual.length) {
      throw invalid("input '" + name + "': expected rank " + expected.length + " "
          + Arrays.toString(expected) + ", got rank " + actual.length + " "
          + Arrays.toString(actual));
    }
    for (int i = 0; i < expected.length; i++) {
      if (expected[i] != -1 && expected[i] != actual[i]) {
        if (expected.length == 2 && i == 1) {
          throw invalid("input '" + name + "': expected " + expected[i] + " features, got "
              + actual[i]);
        }
        throw invalid("input '" + name + "': dimension " + i + " expected " + expected[i]
            + ", got " + actual[i] + " (expected shape " + Arrays.toString(expected) + ", got "
            + Arrays.toString(actual) + ")");
      }
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

  private static List<String> names(List<TensorSpec> specs) {
    return specs.stream().map(TensorSpec::name).toList();
  }

  private static ModelServingException invalid(String message) {
    return new ModelServingException(ErrorCode.INVALID_INPUT, message);
  }
}
