package dev.modserv.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The answer to one {@link InferenceRequest}: the model and version that ran it, the output
 * tensors by name (only the rows of this request), and timings.
 *
 * @param model the model's name
 * @param version the version that served the request
 * @param outputs the outputs, by name, in the model's order
 * @param timings where the time went
 */
public record InferenceResult(
    String model, long version, Map<String, Tensor> outputs, Timings timings) {

  /** Copies the outputs. */
  public InferenceResult {
    outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
  }

  /** Returns the output named {@code name}. */
  public Optional<Tensor> output(String name) {
    return Optional.ofNullable(outputs.get(name));
  }

  /**
   * Returns the output named {@code name}.
   *
   * @throws IllegalArgumentException naming the outputs there are, when there is none such
   */
  public Tensor requireOutput(String name) {
    Tensor t = outputs.get(name);
    if (t == null) {
      throw new IllegalArgumentException(
          "no output '" + name + "'; the result has " + outputs.keySet());
    }
    return t;
  }
}
