package dev.modserv.tensorflow.internal;

import dev.modserv.api.DataType;
import dev.modserv.api.ErrorCode;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.ModelServingException;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.RunGate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.exceptions.TFInvalidArgumentException;

/**
 * A SavedModel served through one of its signatures: the signature's inputs and outputs, by their
 * signature names, are the model's. Outputs are copied into modserv tensors, and every TensorFlow
 * tensor is closed, before {@link #run} returns or throws.
 */
public final class TensorFlowModel implements LoadedModel {
  /** A signature tensor: its spec and the graph tensor it stands for ({@code op:index}). */
  private record Port(TensorSpec spec, String graphName) {}

  /** One signature's inputs, outputs and metadata. */
  private record View(ModelMetadata metadata, Map<String, Port> inputs, Map<String, Port> outputs) {}

  private final SavedModelBundle bundle;
  private final Session session;
  private final String engine;
  private final Map<String, String> properties;
  private final View main;
  private final Map<String, View> views = new java.util.concurrent.ConcurrentHashMap<>();
  private final long memoryBytes;
  private final RunGate guard = new RunGate();

  /**
   * Wraps a loaded bundle, serving {@code signatureKey}; the model owns the bundle from here on
   * (the caller closes it when this constructor throws).
   *
   * @throws IllegalArgumentException when the signature is missing or has a tensor of a type this
   *     engine does not serve
   */
  public TensorFlowModel(
      SavedModelBundle bundle, String signatureKey, String engine, Map<String, String> properties,
      long memoryBytes) {
    this.bundle = bundle;
    this.session = bundle.session();
    this.memoryBytes = memoryBytes;
    this.engine = engine;
    this.properties = Map.copyOf(properties);
    this.main = view(signatureKey, IllegalArgumentException::new);
    views.put(signatureKey, main);
  }

  /** Reads one signature; {@code error} makes the exception for a missing or unservable one. */
  private View view(String signatureKey,
      java.util.function.Function<String, RuntimeException> error) {
    Signature signature = null;
    List<String> keys = new ArrayList<>();
    for (Signature s : bundle.signatures()) {
      keys.add(s.key());
      if (s.key().equals(signatureKey)) {
        signature = s;
      }
    }
    if (signature == null) {
      throw error.apply("the SavedModel has no signature '" + signatureKey
          + "'; its signatures: " + keys + " (choose one with the option or request parameter"
          + " 'signature')");
    }
    Map<String, Port> inputs = new LinkedHashMap<>();
    Map<String, Port> outputs = new LinkedHashMap<>();
    ModelMetadata.Builder builder = ModelMetadata.builder(engine);
    try {
      // Signature maps come from protobuf maps, in no stated order: serve them sorted by name.
      for (Map.Entry<String, Signature.TensorDescription> e :
          new TreeMap<>(signature.getInputs()).entrySet()) {
        Port port = port("input", e.getKey(), e.getValue());
        inputs.put(e.getKey(), port);
        builder.input(port.spec());
      }
      for (Map.Entry<String, Signature.TensorDescription> e :
          new TreeMap<>(signature.getOutputs()).entrySet()) {
        Port port = port("output", e.getKey(), e.getValue());
        outputs.put(e.getKey(), port);
        builder.output(port.spec());
      }
    } catch (IllegalArgumentException e) {
      throw error.apply(String.valueOf(e.getMessage()));
    }
    if (outputs.isEmpty()) {
      throw error.apply("signature '" + signatureKey + "' has no output");
    }
    properties.forEach(builder::property);
    builder.property("signature", signatureKey);
    return new View(builder.build(), inputs, outputs);
  }

  /** The signature a request's parameters name; INVALID_INPUT for anything else. */
  private View view(Map<String, String> parameters) {
    for (String key : parameters.keySet()) {
      if (!key.equals(dev.modserv.api.InferenceRequest.SIGNATURE)) {
        throw TfTensors.invalid("unknown request parameter '" + key + "'; TensorFlow models take '"
            + dev.modserv.api.InferenceRequest.SIGNATURE + "'");
      }
    }
    String key = parameters.get(dev.modserv.api.InferenceRequest.SIGNATURE);
    if (key == null) {
      return main;
    }
    View v = views.get(key);
    if (v == null) {
      v = view(key, TfTensors::invalid);
      views.putIfAbsent(key, v);
    }
    return v;
  }

  private static Port port(String kind, String name, Signature.TensorDescription d) {
    DataType type = TfTensors.dataType(d.dataType);
    if (type == null) {
      throw new IllegalArgumentException(kind + " '" + name + "' has type " + d.dataType
          + "; modserv serves TensorFlow tensors of types " + TfTensors.SERVED_TYPES);
    }
    return new Port(TfTensors.spec(name, type, d.shape), d.name);
  }

  @Override
  public ModelMetadata metadata() {
    return main.metadata();
  }

  @Override
  public ModelMetadata metadata(Map<String, String> parameters) {
    return view(parameters).metadata();
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> in, Set<String> wanted) throws Exception {
    return run(main, in, wanted);
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> in, Set<String> wanted,
      Map<String, String> parameters) throws Exception {
    return run(view(parameters), in, wanted);
  }

  private Map<String, Tensor> run(View view, Map<String, Tensor> in, Set<String> wanted)
      throws Exception {
    Map<String, Port> inputs = view.inputs();
    Map<String, Port> outputs = view.outputs();
    view.metadata().requireAccepts(in, wanted);
    List<String> names = new ArrayList<>(outputs.keySet());
    if (!wanted.isEmpty()) {
      names.retainAll(wanted);
    }
    guard.enter();
    List<org.tensorflow.Tensor> fed = new ArrayList<>(inputs.size());
    try {
      Session.Runner runner = session.runner();
      for (Port port : inputs.values()) {
        org.tensorflow.Tensor t = TfTensors.toTf(Objects.requireNonNull(in.get(port.spec().name())));
        fed.add(t);
        runner.feed(port.graphName(), t);
      }
      for (String name : names) {
        runner.fetch(Objects.requireNonNull(outputs.get(name)).graphName());
      }
      try (Result result = runner.run()) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
          out.put(names.get(i), TfTensors.fromTf(names.get(i), result.get(i)));
        }
        return out;
      }
    } catch (TFInvalidArgumentException e) {
      throw new ModelServingException(
          ErrorCode.INVALID_INPUT, "TensorFlow refused the inputs: " + e.getMessage(), e);
    } finally {
      try {
        TfTensors.closeAll(fed);
      } finally {
        guard.exit();
      }
    }
  }

  /**
   * One run per available processor: a {@code Session} is thread-safe (TensorFlow Java's
   * javadoc), and concurrent runs share the session's inter- and intra-op pools, which TensorFlow
   * sizes to the cores, rather than each starting threads of its own.
   */
  @Override
  public int concurrentRuns() {
    return Runtime.getRuntime().availableProcessors();
  }

  @Override
  public long memoryBytes() {
    return memoryBytes;
  }

  @Override
  public void close() {
    if (guard.closeAndAwait()) {
      bundle.close();
    }
  }
}
