package dev.modserv.api;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One call to a model: named input tensors, optionally the outputs wanted (all when none are
 * named), a timeout measured from submission, and a priority.
 *
 * <pre>{@code
 * InferenceRequest request = InferenceRequest.builder("iris")
 *     .input("x", Tensor.of(new float[] {5.1f, 3.5f, 1.4f, 0.2f}, 1, 4))
 *     .timeout(Duration.ofMillis(200))
 *     .build();
 * }</pre>
 */
public final class InferenceRequest {
  /**
   * The request parameter naming the signature (TensorFlow) or entry point a request calls, where
   * the engine has several; see {@link #parameters()}.
   */
  public static final String SIGNATURE = "signature";

  /** The priority of a request that sets none. Lower numbers run first. */
  public static final int DEFAULT_PRIORITY = 0;

  private final ModelRef model;
  private final Map<String, Tensor> inputs;
  private final Set<String> outputs;
  private final @Nullable Duration timeout;
  private final int priority;
  private final @Nullable String id;
  private final Map<String, String> parameters;
  /** The first dimension of the first input: read once, as the batcher and the answer ask often. */
  private final long rows;

  private InferenceRequest(Builder b) {
    this.model = b.model;
    this.inputs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.inputs));
    // Most requests ask for every output and set no parameter: no copy then.
    this.outputs = b.outputs.isEmpty() ? java.util.Collections.emptySet()
        : java.util.Collections.unmodifiableSet(new LinkedHashSet<>(b.outputs));
    this.timeout = b.timeout;
    this.priority = b.priority;
    this.id = b.id;
    this.parameters = b.parameters.isEmpty() ? Map.of() : Map.copyOf(b.parameters);
    this.rows = rowsOf(this.inputs);
  }

  private InferenceRequest(InferenceRequest r, Map<String, Tensor> inputs) {
    this.model = r.model;
    this.inputs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
    this.outputs = r.outputs;
    this.timeout = r.timeout;
    this.priority = r.priority;
    this.id = r.id;
    this.parameters = r.parameters;
    this.rows = rowsOf(this.inputs);
  }

  /**
   * Returns this request with other inputs (as preprocessing makes them); everything else stays.
   *
   * @throws IllegalArgumentException when {@code inputs} is empty
   */
  public InferenceRequest withInputs(Map<String, Tensor> inputs) {
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException("a request needs at least one input");
    }
    inputs.forEach((name, tensor) -> java.util.Objects.requireNonNull(tensor, name));
    return new InferenceRequest(this, inputs);
  }

  /** Starts a request to the model {@code ref} names (see {@link ModelRef#parse(String)}). */
  public static Builder builder(String ref) {
    return new Builder(ModelRef.parse(ref));
  }

  /** Starts a request to {@code model}. */
  public static Builder builder(ModelRef model) {
    return new Builder(model);
  }

  /** Returns the model (and version or label) asked for. */
  public ModelRef model() {
    return model;
  }

  /** Returns the inputs, by name, in the order they were added. */
  public Map<String, Tensor> inputs() {
    return inputs;
  }

  /** Returns the names of the outputs wanted; empty means all. */
  public Set<String> outputs() {
    return outputs;
  }

  /** Returns the timeout, measured from submission; empty means the model's default. */
  public Optional<Duration> timeout() {
    return Optional.ofNullable(timeout);
  }

  /** Returns the priority; lower numbers run first, {@link #DEFAULT_PRIORITY} when not set. */
  public int priority() {
    return priority;
  }

  /** Returns the caller's request id, if it gave one (echoed in results and logs). */
  public Optional<String> id() {
    return Optional.ofNullable(id);
  }

  /**
   * Returns the engine parameters of this request, such as {@link #SIGNATURE}; empty for most
   * requests. An engine refuses parameters it does not know with {@code INVALID_INPUT}; requests
   * with parameters are never stacked with others into one engine call.
   */
  public Map<String, String> parameters() {
    return parameters;
  }

  /** Returns the number of rows: the first dimension of the first input, 1 for a scalar. */
  public long rows() {
    return rows;
  }

  private static long rowsOf(Map<String, Tensor> inputs) {
    for (Tensor t : inputs.values()) {
      return t.rank() == 0 ? 1 : t.dim(0);
    }
    return 0;
  }

  @Override
  public String toString() {
    return "InferenceRequest[" + model + ", inputs=" + inputs.keySet() + "]";
  }

  /** Builds an {@link InferenceRequest}; each setter checks its argument at once. */
  public static final class Builder {
    private final ModelRef model;
    private final Map<String, Tensor> inputs = new LinkedHashMap<>();
    private final Set<String> outputs = new LinkedHashSet<>();
    private @Nullable Duration timeout;
    private int priority = DEFAULT_PRIORITY;
    private @Nullable String id;
    private final Map<String, String> parameters = new LinkedHashMap<>();

    private Builder(ModelRef model) {
      this.model = model;
    }

    /** Adds the input {@code name}; a name may be given once. */
    public Builder input(String name, Tensor tensor) {
      if (name.isEmpty()) {
        throw new IllegalArgumentException("input name must not be empty");
      }
      if (inputs.putIfAbsent(name, java.util.Objects.requireNonNull(tensor, name)) != null) {
        throw new IllegalArgumentException("input '" + name + "' was already given");
      }
      return this;
    }

    /** Adds every input of {@code named}. */
    public Builder inputs(Map<String, Tensor> named) {
      named.forEach(this::input);
      return this;
    }

    /** Asks for these outputs only (by default, every output). */
    public Builder outputs(String... names) {
      for (String name : List.of(names)) {
        if (name.isEmpty()) {
          throw new IllegalArgumentException("output name must not be empty");
        }
        outputs.add(name);
      }
      return this;
    }

    /** Sets how long the request may take from submission; must be positive. */
    public Builder timeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive: " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /** Sets the priority: 0 (the default) or more; lower numbers run first. */
    public Builder priority(int priority) {
      if (priority < 0) {
        throw new IllegalArgumentException("priority must be >= 0: " + priority);
      }
      this.priority = priority;
      return this;
    }

    /** Sets an engine parameter, such as {@link InferenceRequest#SIGNATURE}; once per key. */
    public Builder parameter(String key, String value) {
      if (key.isEmpty() || value.isEmpty()) {
        throw new IllegalArgumentException("parameter key and value must not be empty: '" + key
            + "' = '" + value + "'");
      }
      if (parameters.putIfAbsent(key, value) != null) {
        throw new IllegalArgumentException("parameter '" + key + "' was already given");
      }
      return this;
    }

    /** Sets the caller's request id. */
    public Builder id(String id) {
      this.id = id;
      return this;
    }

    /**
     * Returns the request.
     *
     * @throws IllegalArgumentException when no input was added
     */
    public InferenceRequest build() {
      if (inputs.isEmpty()) {
        throw new IllegalArgumentException("a request needs at least one input");
      }
      return new InferenceRequest(this);
    }
  }
}
