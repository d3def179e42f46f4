package dev.modserv.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What a loaded model takes and gives: its inputs and outputs, its capabilities, the engine that
 * runs it, and free-form properties (engine version, producer, ...).
 *
 * @param engine the name of the engine that loaded the model, e.g. {@code onnxruntime}
 * @param inputs the inputs, in the model's order, with unique names
 * @param outputs the outputs, in the model's order, with unique names
 * @param capabilities what the model can do; never empty
 * @param properties free-form, engine-reported facts
 */
public record ModelMetadata(
    String engine,
    List<TensorSpec> inputs,
    List<TensorSpec> outputs,
    Set<Capability> capabilities,
    Map<String, String> properties) {

  /** Validates and copies its arguments. */
  public ModelMetadata {
    if (engine.isEmpty()) {
      throw new IllegalArgumentException("engine name must not be empty");
    }
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    requireUniqueNames("input", inputs);
    requireUniqueNames("output", outputs);
    if (capabilities.isEmpty()) {
      throw new IllegalArgumentException("a model has at least one capability");
    }
    capabilities = Set.copyOf(EnumSet.copyOf(capabilities));
    properties = Map.copyOf(properties);
  }

  private static void requireUniqueNames(String kind, List<TensorSpec> specs) {
    Set<String> seen = new java.util.HashSet<>();
    for (TensorSpec spec : specs) {
      if (!seen.add(spec.name())) {
        throw new IllegalArgumentException("duplicate " + kind + " name '" + spec.name() + "'");
      }
    }
  }

  /** Returns a builder for metadata of the named engine. */
  public static Builder builder(String engine) {
    return new Builder(engine);
  }

  /** Returns whether the model has {@code capability}. */
  public boolean has(Capability capability) {
    return capabilities.contains(capability);
  }

  /** Returns the input named {@code name}. */
  public Optional<TensorSpec> input(String name) {
    return find(inputs, name);
  }

  /** Returns the output named {@code name}. */
  public Optional<TensorSpec> output(String name) {
    return find(outputs, name);
  }

  /** A loop, not a stream: every request's inputs are looked up here. */
  private static Optional<TensorSpec> find(List<TensorSpec> specs, String name) {
    for (int i = 0; i < specs.size(); i++) {
      TensorSpec spec = specs.get(i);
      if (spec.name().equals(name)) {
        return Optional.of(spec);
      }
    }
    return Optional.empty();
  }

  /**
   * Checks a request against this model before any work is done: every input is known and present,
   * each fits its spec ({@link TensorSpec#requireAccepts}), the inputs of a {@link
   * Capability#BATCHABLE} model share one first dimension of at least one row, and every output
   * asked for exists (an empty {@code outputs} asks for all).
   *
   * @throws ModelServingException with {@link ErrorCode#INVALID_INPUT} naming the input or output,
   *     what was expected and what came
   */
  public void requireAccepts(Map<String, Tensor> in, Set<String> wanted) {
    for (String name : in.keySet()) {
      if (input(name).isEmpty()) {
        throw invalid("unknown input '" + name + "'; the model takes " + names(inputs));
      }
    }
    boolean batchable = has(Capability.BATCHABLE);
    @Nullable String firstName = null;
    long firstRows = -1;
    for (TensorSpec spec : inputs) {
      Tensor tensor = in.get(spec.name());
      if (tensor == null) {
        throw invalid("missing input '" + spec.name() + "'; the model takes " + names(inputs));
      }
      spec.requireAccepts(tensor);
      if (!batchable || tensor.rank() == 0) {
        continue;
      }
      long rows = tensor.dim(0);
      if (rows == 0) {
        throw invalid("input '" + spec.name() + "': expected at least 1 row, got 0 (shape "
            + Arrays.toString(tensor.shape()) + ")");
      }
      if (firstName == null) {
        firstName = spec.name();
        firstRows = rows;
      } else if (rows != firstRows) {
        throw invalid("input '" + spec.name() + "': expected as many rows as input '" + firstName
            + "' (" + firstRows + "), got " + rows);
      }
    }
    for (String name : wanted) {
      if (output(name).isEmpty()) {
        throw invalid("unknown output '" + name + "'; the model gives " + names(outputs));
      }
    }
  }

  private static List<String> names(List<TensorSpec> specs) {
    return specs.stream().map(TensorSpec::name).toList();
  }

  private static ModelServingException invalid(String message) {
    return new ModelServingException(ErrorCode.INVALID_INPUT, message);
  }

  /** Builds {@link ModelMetadata}; {@link Capability#TENSOR} is the default capability. */
  public static final class Builder {
    private final String engine;
    private final List<TensorSpec> inputs = new ArrayList<>();
    private final List<TensorSpec> outputs = new ArrayList<>();
    private final Set<Capability> capabilities = EnumSet.noneOf(Capability.class);
    private final Map<String, String> properties = new LinkedHashMap<>();

    private Builder(String engine) {
      this.engine = engine;
    }

    /** Adds an input. */
    public Builder input(TensorSpec spec) {
      inputs.add(spec);
      return this;
    }

    /** Adds an output. */
    public Builder output(TensorSpec spec) {
      outputs.add(spec);
      return this;
    }

    /** Adds capabilities. */
    public Builder capabilities(Capability... more) {
      capabilities.addAll(List.of(more));
      return this;
    }

    /** Adds a property. */
    public Builder property(String key, String value) {
      properties.put(key, value);
      return this;
    }

    /**
     * Returns the metadata; with no capability set, {@link Capability#TENSOR}, plus {@link
     * Capability#BATCHABLE} when every input and output has a dynamic first dimension.
     */
    public ModelMetadata build() {
      Set<Capability> caps = EnumSet.noneOf(Capability.class);
      caps.addAll(capabilities);
      if (caps.isEmpty()) {
        caps.add(Capability.TENSOR);
        boolean batchable =
            !inputs.isEmpty()
                && inputs.stream().allMatch(TensorSpec::hasDynamicFirstDimension)
                && outputs.stream().allMatch(TensorSpec::hasDynamicFirstDimension);
        if (batchable) {
          caps.add(Capability.BATCHABLE);
        }
      }
      return new ModelMetadata(engine, inputs, outputs, caps, properties);
    }
  }
}
