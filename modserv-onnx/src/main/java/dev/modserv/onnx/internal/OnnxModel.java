package dev.modserv.onnx.internal;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.RunCancel;
import dev.modserv.spi.RunGate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A tensor model: named tensors in, named tensors out, one ONNX Runtime session. */
public final class OnnxModel implements LoadedModel {
  private static final Logger LOG = LoggerFactory.getLogger(OnnxModel.class);

  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelMetadata metadata;
  private final Set<String> outputs = new LinkedHashSet<>();
  private final long memoryBytes;
  private final int concurrentRuns;
  private final RunGate guard = new RunGate();

  /**
   * Wraps an open session; the model owns it from here on.
   *
   * @throws IllegalArgumentException when an input is not a tensor modserv can build
   */
  public OnnxModel(
      OrtEnvironment env, OrtSession session, String engine, Map<String, String> properties,
      long memoryBytes, int concurrentRuns) throws OrtException {
    this.env = env;
    this.session = session;
    this.memoryBytes = memoryBytes;
    this.concurrentRuns = concurrentRuns;
    ModelMetadata.Builder builder = ModelMetadata.builder(engine);
    for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
      StringBuilder why = new StringBuilder();
      TensorSpec spec = Tensors.spec(e.getKey(), e.getValue(), why);
      if (spec == null) {
        throw new IllegalArgumentException("input " + why + "; modserv serves tensor inputs of"
            + " types FP32, FP64, FP16, BF16, INT8, INT16, INT32, INT64, UINT8, BOOL, STRING");
      }
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
  }

  @Override
  public ModelMetadata metadata() {
    return metadata;
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> in, Set<String> wanted) throws Exception {
    return run(in, wanted, RunCancel.NEVER);
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> in, Set<String> wanted,
      Map<String, String> parameters, RunCancel cancel) throws Exception {
    if (!parameters.isEmpty()) {
      return LoadedModel.super.run(in, wanted, parameters);   // refuses them
    }
    return run(in, wanted, cancel);
  }

  private Map<String, Tensor> run(Map<String, Tensor> in, Set<String> wanted, RunCancel cancel)
      throws Exception {
    metadata.requireAccepts(in, wanted);
    Set<String> names = outputs;
    if (!wanted.isEmpty()) {
      names = new LinkedHashSet<>(outputs);
      names.retainAll(wanted);
    }
    guard.enter();
    Map<String, OnnxTensor> ort = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Tensor> e : in.entrySet()) {
        ort.put(e.getKey(), Tensors.toOrt(env, e.getValue()));
      }
      try (OrtSession.Result result = Terminable.run(session, ort, names, cancel)) {
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

  @Override
  public int concurrentRuns() {
    return concurrentRuns;
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
