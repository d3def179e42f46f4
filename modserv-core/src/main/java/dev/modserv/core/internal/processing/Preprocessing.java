package dev.modserv.core.internal.processing;

import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Preprocessing: the operations in order and the inputs they apply to (null: every FP32 and FP64
 * input; other inputs pass through unless named).
 */
public record Preprocessing(List<Op> ops, @Nullable Set<String> inputs) {
  /** Copies the lists. */
  public Preprocessing {
    ops = List.copyOf(ops);
    inputs = inputs == null ? null : Set.copyOf(inputs);
  }

  /** Whether it changes nothing. */
  public boolean isEmpty() {
    return ops.isEmpty();
  }

  /**
   * Returns the inputs preprocessed, in their order; the same map when nothing applies.
   *
   * @throws dev.modserv.api.ModelServingException {@code INVALID_INPUT} naming the operation
   */
  public Map<String, Tensor> apply(Map<String, Tensor> given) {
    if (ops.isEmpty()) {
      return given;
    }
    Map<String, Tensor> out = new LinkedHashMap<>(given);
    for (Map.Entry<String, Tensor> e : given.entrySet()) {
      String name = e.getKey();
      if (inputs != null && !inputs.contains(name)) {
        continue;
      }
      Tensor t = e.getValue();
      DataType type = t.dataType();
      if (type != DataType.FP32 && type != DataType.FP64) {
        if (inputs != null) {
          throw Op.invalid("preprocessing.inputs: input '" + name + "' is " + type
              + "; preprocessing applies to FP32 and FP64 inputs");
        }
        continue;
      }
      double[] x = Values.doubles(t);
      long[] shape = t.shape();
      for (Op op : ops) {
        op.apply(x, shape, name);
      }
      out.put(name, Values.floating(type, x, shape));
    }
    return out;
  }
}
