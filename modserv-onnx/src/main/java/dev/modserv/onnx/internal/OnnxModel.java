package dev.modserv.onnx.internal;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.modserv.api.DataType;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.RunCancel;
import dev.modserv.spi.RunGate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
  private final Set<String> outputs = new LinkedHashSet<>();
  private final long memoryBytes;
  private final int concurrentRuns;
  private final RunGate guard = new RunGate();
  /** The outputs whose shape an input's shape gives before the run: written into our buffers. */
  private final Map<String, OutputShape> sizedOutputs = new HashMap<>();
  /**
   * Whether outputs are written into our buffers: on the CPU only (a device provider's copy back
   * checks no shape), and cleared, with a warning, when a model computes a shape other than the
   * one it declares.
   */
  private volatile boolean presize;
  private final RunBuffers.Pool buffers;

  /**
   * Wraps an open session; the model owns it from here on. {@code onCpu}: the session runs in host
   * memory, where ONNX Runtime may write outputs into buffers the engine keeps.
   *
   * @throws IllegalArgumentException when an input is not a tensor modserv can build
   */
  public OnnxModel(
      OrtEnvironment env, OrtSession session, String engine, Map<String, String> properties,
      long memoryBytes, int concurrentRuns, boolean onCpu) throws OrtException {
    this.env = env;
    this.session = session;
    this.memoryBytes = memoryBytes;
    this.concurrentRuns = concurrentRuns;
    this.buffers = new RunBuffers.Pool(concurrentRuns);
    this.presize = onCpu;
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
      OutputShape shape = OutputShape.of(spec, (TensorInfo) e.getValue().getInfo(),
          session.getInputInfo());
      if (shape != null) {
        sizedOutputs.put(spec.name(), shape);
      }
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
    RunBuffers own = null;
    try {
      own = buffers.take();
      if (presize) {
        try {
          return run(in, names, cancel, own, true);
        } catch (OrtException e) {
          if (!OutputShape.refused(e)) {
            throw e;
          }
          // The model computed a shape other than its declared one: run it as ONNX Runtime sizes
          // it, and stop presizing its outputs once that run shows it was the presizing.
          Map<String, Tensor> out = run(in, names, cancel, own, false);
          presize = false;
          LOG.warn("a model's outputs {} come out in shapes other than it declares ({}); its "
              + "outputs are no longer written into reused buffers", sizedOutputs.keySet(),
              e.getMessage());
          return out;
        }
      }
      return run(in, names, cancel, own, false);
    } catch (OrtException e) {
      throw Errors.translate(e);
    } finally {
      if (own != null) {
        buffers.giveBack(own);
      }
      guard.exit();
    }
  }

  /**
   * One run: the inputs copied into {@code own}'s buffers, and with {@code presized}, the outputs
   * whose shape is known written into them (the rest as ONNX Runtime allocates them).
   */
  private Map<String, Tensor> run(Map<String, Tensor> in, Set<String> names, RunCancel cancel,
      RunBuffers own, boolean presized) throws OrtException {
    Map<String, OnnxTensor> ort = new LinkedHashMap<>();
    List<OnnxTensor> made = new ArrayList<>(0);   // the tensors this run closes: not own's
    Map<String, OnnxTensor> written = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Tensor> e : in.entrySet()) {
        OnnxTensor copy = own.input(env, e.getKey(), e.getValue());
        if (copy == null) {
          copy = Tensors.toOrt(env, e.getValue());
          made.add(copy);
        }
        ort.put(e.getKey(), copy);
      }
      Set<String> asked = names;
      if (presized) {
        for (String name : names) {
          OutputShape shape = sizedOutputs.get(name);
          OnnxTensor into = shape == null ? null
              : own.output(env, name, shape.type(), shape.resolve(in));
          if (into != null) {
            written.put(name, into);
          }
        }
        if (!written.isEmpty()) {
          asked = new LinkedHashSet<>(names);
          asked.removeAll(written.keySet());
        }
      }
      try (OrtSession.Result result = Terminable.run(session, ort, asked, written, cancel)) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : names) {
          OnnxTensor into = written.get(name);
          out.put(name, into != null
              ? own.copyOut(name, Objects.requireNonNull(sizedOutputs.get(name)).type(),
                  into.getInfo().getShape())
              : Tensors.fromOrt(name, result.get(name).orElseThrow()));
        }
        return out;
      }
    } finally {
      for (OnnxTensor t : made) {
        t.close();
      }
    }
  }

  /**
   * Where each dimension of an output comes from before a run: the model's own size, or the size
   * of an input's dimension that has the same name (ONNX's symbolic dimensions, such as "batch").
   */
  record OutputShape(DataType type, long[] fixed, String[] fromInput, int[] fromDim) {
    /**
     * Null when a dimension is dynamic with no input's dimension of its name, for strings, and for
     * an output that is an input passed through (ONNX Runtime answers with the input itself and
     * would leave a buffer given for it unwritten).
     */
    static @Nullable OutputShape of(TensorSpec spec, TensorInfo info,
        Map<String, NodeInfo> inputs) {
      if (!spec.dataType().isFixedSize() || inputs.containsKey(spec.name())) {
        return null;
      }
      long[] fixed = spec.shape();
      String[] names = info.getDimensionNames();
      String[] fromInput = new String[fixed.length];
      int[] fromDim = new int[fixed.length];
      for (int i = 0; i < fixed.length; i++) {
        if (fixed[i] >= 0) {
          continue;
        }
        String name = i < names.length ? names[i] : "";
        if (name.isEmpty() || !find(name, inputs, fromInput, fromDim, i)) {
          return null;
        }
      }
      return new OutputShape(spec.dataType(), fixed, fromInput, fromDim);
    }

    private static boolean find(String dimension, Map<String, NodeInfo> inputs,
        String[] fromInput, int[] fromDim, int at) {
      for (Map.Entry<String, NodeInfo> e : inputs.entrySet()) {
        if (!(e.getValue().getInfo() instanceof TensorInfo info)) {
          continue;
        }
        String[] names = info.getDimensionNames();
        for (int d = 0; d < names.length; d++) {
          if (dimension.equals(names[d])) {
            fromInput[at] = e.getKey();
            fromDim[at] = d;
            return true;
          }
        }
      }
      return false;
    }

    /** The output's shape for these inputs (checked against the metadata: each one is there). */
    long[] resolve(Map<String, Tensor> in) {
      long[] shape = fixed.clone();
      for (int i = 0; i < shape.length; i++) {
        if (shape[i] < 0) {
          shape[i] = Objects.requireNonNull(in.get(fromInput[i]), fromInput[i]).dim(fromDim[i]);
        }
      }
      return shape;
    }

    /**
     * Whether ONNX Runtime refused a run for an output buffer of the wrong shape: at the start
     * (against a declared size) or at the node that computed another. It goes by ONNX Runtime
     * 1.29's wording; OnnxBackendTest's model that computes another shape than it declares fails
     * if an upgrade changes it.
     */
    static boolean refused(OrtException e) {
      String message = String.valueOf(e.getMessage());
      return e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT
          && (message.contains("pre-allocated") || message.contains("invalid dimensions for output"));
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
      buffers.close();
      session.close();
    }
  }
}
