package dev.modserv.onnx.internal;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.modserv.api.Capability;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.RunGate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A tensor model: named tensors in, named tensors out, one ONNX Runtime session. */
public final class OnnxModel implements LoadedModel {
  private static final Logger LOG = LoggerFactory.getLogger(OnnxModel.class);

  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelMetadata metadata;
  private final Map<String, TensorSpec> inputs = new LinkedHashMap<>();
  private final Set<String> outputs = new LinkedHashSet<>();
  private final long memoryBytes;
  private final RunGate guard = new RunGate();
  private final boolean batchable;

  /**
   * Wraps an open session; the model owns it from here on.
   *
   * @throws IllegalArgumentException when an input is not a tensor modserv can build
   */
  public OnnxModel(
      OrtEnvironment env, OrtSession session, String engine, Map<String, String> properties,
      long memoryBytes) throws OrtException {
    this.env = env;
    this.session = session;
    this.memoryBytes = memoryBytes;
    ModelMetadata.Builder builder = ModelMetadata.builder(engine);
    for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
      StringBuilder why = new StringBuilder();
      TensorSpec spec = Tensors.spec(e.getKey(), e.getValue(), why);
      if (spec == null) {
        throw new IllegalArgumentException("input " + why + "; modserv serves tensor inputs of"
            + " types FP32, FP64, FP16, BF16, INT8, INT16, INT32, INT64, UINT8, BOOL, STRING");
      }
      inputs.put(spec.name(), spec);
      builder.input(spec);
    }
    List<String> skipped = new ArrayList<>();
    for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
      StringBuilder why = new StringBuilder();
      TensorSpec spec = Tensors.spec(e.getKey(), e.getValue(), why);
      if (spec == null) {
        skipped.add(why.toString());
        continue;
      }
      outputs.add(spec.name());
      builder.output(spec);
    }
    if (outputs.isEmpty()) {
      throw new IllegalArgumentException("the model has no output modserv can serve: " + skipped);
    }
    if (!skipped.isEmpty()) {
      LOG.warn("outputs left out of the metadata, never computed: {}", skipped);
    }
    properties.forEach(builder::property);
    this.metadata = builder.build();
    this.batchable = metadata.has(Capability.BATCHABLE);
  }

  @Override
  public ModelMetadata metadata() {
    return metadata;
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> in, Set<String> wanted) throws Exception {
    for (String name : in.keySet()) {
      if (!inputs.containsKey(name)) {
        throw Tensors.invalid("unknown input '" + name + "'; the model takes " + inputs.keySet());
      }
    }
    for (TensorSpec spec : inputs.values()) {
      Tensor t = in.get(spec.name());
      if (t == null) {
        throw Tensors.invalid("input '" + spec.name() + "' is missing; the model takes "
            + inputs.keySet());
      }
      Tensors.check(spec, t);
    }
    if (batchable) {
      checkRows(in);
    }
    Set<String> names = outputs;
    if (!wanted.isEmpty()) {
      for (String name : wanted) {
        if (!outputs.contains(name)) {
          throw Tensors.invalid("unknown output '" + name + "'; the model gives " + outputs);
        }
      }
      names = new LinkedHashSet<>(outputs);
      names.retainAll(wanted);
    }
    guard.enter();
    Map<String, OnnxTensor> ort = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Tensor> e : in.entrySet()) {
        ort.put(e.getKey(), Tensors.toOrt(env, e.getValue()));
      }
      try (OrtSession.Result result = session.run(ort, names)) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : names) {
          out.put(name, Tensors.fromOrt(name, result.get(name).orElseThrow()));
        }
        return out;
      }
    } catch (OrtException e) {
      throw Errors.translate(e);
    } finally {
      Tensors.closeTensors(ort);
      guard.exit();
    }
  }

  /** Every input of a batchable model has the same rows, at least one: its first dimension is the batch. */
  private void checkRows(Map<String, Tensor> in) {
    @Nullable String first = null;
    long rows = -1;
    for (TensorSpec spec : inputs.values()) {
      Tensor t = in.get(spec.name());
      if (t == null || t.rank() == 0) {
        continue;
      }
      if (t.dim(0) == 0) {
        throw Tensors.invalid("input '" + spec.name() + "': expected at least 1 row, got 0 (shape "
            + java.util.Arrays.toString(t.shape()) + ")");
      }
      if (first == null) {
        first = spec.name();
        rows = t.dim(0);
      } else if (t.dim(0) != rows) {
        throw Tensors.invalid("input '" + spec.name() + "': expected " + rows + " rows, as input '"
            + first + "' has, got " + t.dim(0));
      }
    }
  }

  @Override
  public long memoryBytes() {
    return memoryBytes;
  }

  @Override
  public void close() throws OrtException {
    if (guard.closeAndAwait()) {
      session.close();
    }
  }
}
