package dev.modserv.onnx.internal;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.modserv.api.Capability;
import dev.modserv.api.DataType;
import dev.modserv.api.ModelMetadata;
import dev.modserv.api.Tensor;
import dev.modserv.api.TensorSpec;
import dev.modserv.spi.LoadedModel;
import dev.modserv.spi.RunCancel;
import dev.modserv.spi.RunGate;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import org.jspecify.annotations.Nullable;

/**
 * A text-embedding model: a transformer encoder (inputs {@code input_ids} and optionally {@code
 * attention_mask}, {@code token_type_ids}) with its Hugging Face tokenizer. Takes STRING {@code
 * text [n]}, gives FP32 {@code embedding [n, hidden]}: the encoder's last hidden state averaged
 * over the real tokens (attention-mask mean pooling), then L2-normalised. A batch is padded to its
 * longest text and truncated at {@code max-length} tokens.
 */
public final class EmbeddingModel implements LoadedModel {
  static final String INPUT_IDS = "input_ids";
  static final String ATTENTION_MASK = "attention_mask";
  static final String TOKEN_TYPE_IDS = "token_type_ids";
  private static final List<String> TOKEN_INPUTS = List.of(INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS);

  private final OrtEnvironment env;
  private final OrtSession session;
  private final HuggingFaceTokenizer tokenizer;
  private final List<String> declaredInputs;
  private final String hiddenOutput;
  private final boolean pooled;
  private final int hidden;
  private final ModelMetadata metadata;
  private final long memoryBytes;
  private final int concurrentRuns;
  private final RunGate guard = new RunGate();

  /**
   * Wraps an open session and builds the tokenizer; the model owns the session from here on, and
   * closes it if this constructor fails.
   */
  public static EmbeddingModel create(
      OrtEnvironment env, OrtSession session, Path tokenizerFile, OnnxOptions options,
      String engine, Map<String, String> properties, long memoryBytes, int concurrentRuns)
      throws Exception {
    Path cacheDir = options.cacheDir();
    DjlEnvironment.prepare(cacheDir != null ? cacheDir : DjlEnvironment.defaultCacheDir());
    HuggingFaceTokenizer tokenizer =
        HuggingFaceTokenizer.builder()
            .optTokenizerPath(tokenizerFile)
            .optPadding(true)
            .optTruncation(true)
            .optMaxLength(options.maxLength())
            .build();
    try {
      return new EmbeddingModel(env, session, tokenizer, tokenizerFile, options, engine, properties,
          memoryBytes, concurrentRuns);
    } catch (Exception | Error e) {
      tokenizer.close();
      throw e;
    }
  }

  private EmbeddingModel(
      OrtEnvironment env, OrtSession session, HuggingFaceTokenizer tokenizer, Path tokenizerFile,
      OnnxOptions options, String engine, Map<String, String> properties, long memoryBytes,
      int concurrentRuns) throws OrtException {
    this.env = env;
    this.session = session;
    this.tokenizer = tokenizer;
    this.memoryBytes = memoryBytes;
    this.concurrentRuns = concurrentRuns;
    List<String> declared = new ArrayList<>();
    for (String name : session.getInputInfo().keySet()) {
      if (!TOKEN_INPUTS.contains(name)) {
        throw new IllegalArgumentException("an embedding model takes " + TOKEN_INPUTS
            + " (input_ids required); this one also takes '" + name + "'");
      }
      declared.add(name);
    }
    if (!declared.contains(INPUT_IDS)) {
      throw new IllegalArgumentException("an embedding model takes input_ids; this one takes "
          + declared);
    }
    this.declaredInputs = List.copyOf(declared);
    Map.Entry<String, NodeInfo> out = hiddenState(session);
    this.hiddenOutput = out.getKey();
    long[] shape = ((TensorInfo) out.getValue().getInfo()).getShape();
    this.pooled = shape.length == 2;
    long last = shape[shape.length - 1];
    this.hidden = last > 0 ? Math.toIntExact(last) : probeHidden();
    ModelMetadata.Builder builder =
        ModelMetadata.builder(engine)
            .input(TensorSpec.of(Capability.EMBEDDING_INPUT, DataType.STRING, -1))
            .output(TensorSpec.of(Capability.EMBEDDING_OUTPUT, DataType.FP32, -1, hidden))
            .output(TensorSpec.of(Capability.EMBEDDING_TOKENS, DataType.INT64, -1))
            .capabilities(Capability.TENSOR, Capability.BATCHABLE, Capability.EMBEDDING)
            .property("tokenizer", String.valueOf(tokenizerFile.getFileName()))
            .property("max-length", Integer.toString(options.maxLength()))
            .property("pooling", pooled ? "none (the model pools)" : "mean")
            .property("normalization", "l2");
    properties.forEach(builder::property);
    this.metadata = builder.build();
  }

  /** Returns the output to pool: {@code last_hidden_state}, else the first FP32 one of rank 2-3. */
  private static Map.Entry<String, NodeInfo> hiddenState(OrtSession session) throws OrtException {
    Map.@Nullable Entry<String, NodeInfo> first = null;
    for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
      if (e.getValue().getInfo() instanceof TensorInfo info
          && info.type == ai.onnxruntime.OnnxJavaType.FLOAT
          && (info.getShape().length == 3 || info.getShape().length == 2)) {
        if (e.getKey().equals("last_hidden_state")) {
          return e;
        }
        if (first == null) {
          first = e;
        }
      }
    }
    if (first == null) {
      throw new IllegalArgumentException("an embedding model gives an FP32 output of shape"
          + " [batch, tokens, hidden] (or [batch, hidden]); this one gives "
          + session.getOutputInfo().keySet());
    }
    return first;
  }

  private int probeHidden() throws OrtException {
    return embed(new String[] {"probe"}, RunCancel.NEVER).vectors()[0].length;
  }

  @Override
  public ModelMetadata metadata() {
    return metadata;
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs) throws Exception {
    return run(inputs, outputs, RunCancel.NEVER);
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs,
      Map<String, String> parameters, RunCancel cancel) throws Exception {
    if (!parameters.isEmpty()) {
      return LoadedModel.super.run(inputs, outputs, parameters);   // refuses them
    }
    return run(inputs, outputs, cancel);
  }

  private Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs,
      RunCancel cancel) throws Exception {
    metadata.requireAccepts(inputs, outputs);
    String[] texts = Objects.requireNonNull(inputs.get(Capability.EMBEDDING_INPUT)).toStringArray();
    Embedded embedded = embed(texts, cancel);
    float[][] vectors = embedded.vectors();
    float[] flat = new float[texts.length * hidden];
    for (int i = 0; i < vectors.length; i++) {
      System.arraycopy(vectors[i], 0, flat, i * hidden, hidden);
    }
    // In the metadata's order: clients that read outputs by position see the vectors first.
    // Only those asked for (both when none are named), as the SPI says.
    Map<String, Tensor> out = new LinkedHashMap<>();
    if (outputs.isEmpty() || outputs.contains(Capability.EMBEDDING_OUTPUT)) {
      out.put(Capability.EMBEDDING_OUTPUT, Tensor.of(flat, texts.length, hidden));
    }
    if (outputs.isEmpty() || outputs.contains(Capability.EMBEDDING_TOKENS)) {
      out.put(Capability.EMBEDDING_TOKENS, Tensor.of(embedded.tokens(), texts.length));
    }
    return out;
  }

  /** One vector per text, and how many tokens (padding aside) each text took. */
  private record Embedded(float[][] vectors, long[] tokens) {}

  /**
   * Tokenizes, runs the encoder, pools and normalises. The tokenizer cannot be stopped; a run
   * cancelled while it tokenized does not start the encoder.
   */
  private Embedded embed(String[] texts, RunCancel cancel) throws OrtException {
    guard.enter();
    Map<String, OnnxTensor> ort = new LinkedHashMap<>();
    try {
      Encoding[] encodings = tokenizer.batchEncode(texts);
      if (cancel.isCancelled()) {
        throw new CancellationException("cancelled after tokenizing: no request waits for it");
      }
      int rows = encodings.length;
      int tokens = encodings[0].getIds().length;
      long[] ids = new long[rows * tokens];
      long[] mask = new long[rows * tokens];
      long[] types = new long[rows * tokens];
      for (int i = 0; i < rows; i++) {
        System.arraycopy(encodings[i].getIds(), 0, ids, i * tokens, tokens);
        System.arraycopy(encodings[i].getAttentionMask(), 0, mask, i * tokens, tokens);
        System.arraycopy(encodings[i].getTypeIds(), 0, types, i * tokens, tokens);
      }
      long[] shape = {rows, tokens};
      for (String name : declaredInputs) {
        long[] data = switch (name) {
          case INPUT_IDS -> ids;
          case ATTENTION_MASK -> mask;
          default -> types;
        };
        ort.put(name, OnnxTensor.createTensor(env, LongBuffer.wrap(data), shape));
      }
      try (OrtSession.Result result = Terminable.run(session, ort, Set.of(hiddenOutput),
          cancel)) {
        OnnxTensor state = (OnnxTensor) result.get(0);
        FloatBuffer values = state.getFloatBuffer();
        long[] counts = new long[rows];
        for (int i = 0; i < rows; i++) {
          for (int t = 0; t < tokens; t++) {
            counts[i] += mask[i * tokens + t];
          }
        }
        return new Embedded(pooled ? normalise(rows, values)
            : meanPool(rows, tokens, mask, values), counts);
      }
    } finally {
      Tensors.closeTensors(ort);
      guard.exit();
    }
  }

  private static float[][] meanPool(int rows, int tokens, long[] mask, FloatBuffer state) {
    int width = state.remaining() / (rows * tokens);
    float[][] out = new float[rows][width];
    for (int i = 0; i < rows; i++) {
      double[] sum = new double[width];
      long count = 0;
      for (int t = 0; t < tokens; t++) {
        if (mask[i * tokens + t] == 0) {
          continue;
        }
        count++;
        int base = (i * tokens + t) * width;
        for (int d = 0; d < width; d++) {
          sum[d] += state.get(base + d);
        }
      }
      double divisor = Math.max(count, 1e-9);
      for (int d = 0; d < width; d++) {
        out[i][d] = (float) (sum[d] / divisor);
      }
      l2(out[i]);
    }
    return out;
  }

  private static float[][] normalise(int rows, FloatBuffer state) {
    int width = state.remaining() / rows;
    float[][] out = new float[rows][width];
    for (int i = 0; i < rows; i++) {
      state.get(i * width, out[i]);
      l2(out[i]);
    }
    return out;
  }

  private static void l2(float[] v) {
    double norm = 0;
    for (float x : v) {
      norm += (double) x * x;
    }
    double scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    for (int d = 0; d < v.length; d++) {
      v[d] = (float) (v[d] * scale);
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
      try {
        tokenizer.close();
      } finally {
        session.close();
      }
    }
  }

  @Override
  public String toString() {
    return "EmbeddingModel" + Arrays.asList(hiddenOutput, hidden);
  }
}
