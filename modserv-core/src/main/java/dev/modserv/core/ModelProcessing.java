package dev.modserv.core;

import dev.modserv.api.InferenceRequest;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.api.Timings;
import dev.modserv.core.internal.processing.Classification;
import dev.modserv.core.internal.processing.MapReader;
import dev.modserv.core.internal.processing.Op;
import dev.modserv.core.internal.processing.Postprocessing;
import dev.modserv.core.internal.processing.Preprocessing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Pre- and post-processing of one model's requests: configured per model ({@link
 * ModelConfig.Builder#processing}) or given for one call ({@link ModelServer#infer(InferenceRequest,
 * ModelProcessing)}), where each part it gives replaces the model's. Immutable.
 *
 * <p>Preprocessing changes FP32 and FP64 inputs before they are checked and queued, its operations
 * in the order given: {@code scale} (x · f), {@code normalize} ((x − min) / (max − min)), {@code
 * standardize} ((x − mean[c]) / std[c] along a channel axis). Postprocessing changes FP32 and FP64
 * outputs along their last axis (the classes): {@code softmax} first, then at most one of {@code
 * argmax} (INT64 index, or STRING label), {@code topK} (see {@link #SCORES_SUFFIX}), {@code
 * threshold} alone (BOOL) or {@code classification} (Triton's class strings, see {@link
 * #classify}). {@code docs/processing.md} has the map keys.
 *
 * <pre>{@code
 * ModelProcessing.builder()
 *     .scale(1 / 255.0).standardize(new double[] {0.485, 0.456, 0.406},
 *         new double[] {0.229, 0.224, 0.225})
 *     .softmax().topK(5).labelsFile(Path.of("imagenet.txt"))
 *     .build();
 * }</pre>
 */
public final class ModelProcessing {
  /**
   * The suffix of the top-k scores output: top-k of output {@code y} answers the class indices
   * (INT64, shape [rows..., k], best first, ties lower index first) as {@code y}, their scores (the
   * output's type) as {@code y.scores} and, with labels, their labels (STRING) as {@code
   * y.labels}. Where {@code threshold} drops classes of a row, their places hold index -1, score
   * NaN and label "".
   */
  public static final String SCORES_SUFFIX = Postprocessing.SCORES;

  /** The suffix of the top-k labels output; see {@link #SCORES_SUFFIX}. */
  public static final String LABELS_SUFFIX = Postprocessing.LABELS;

  /** Gives neither part: the model's processing applies. */
  static final ModelProcessing NOT_GIVEN = new ModelProcessing(null, null);

  private static final ModelProcessing NONE = new ModelProcessing(
      new Preprocessing(List.of(), null),
      new Postprocessing(false, null, false, 0, 0, null, null));

  private final @Nullable Preprocessing pre;
  private final @Nullable Postprocessing post;

  private ModelProcessing(@Nullable Preprocessing pre, @Nullable Postprocessing post) {
    this.pre = pre;
    this.post = post;
  }

  /** Returns processing that does nothing; given for one call, it turns the model's off. */
  public static ModelProcessing none() {
    return NONE;
  }

  /** Returns a builder with no operations. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads processing written as maps ({@code docs/processing.md}), as a JSON or YAML object is
   * read: operations in the map's order. Either may be null (that part is not given); an empty
   * map gives that part with nothing to do. A {@code labels_file} is refused here: use {@link
   * #fromMaps(Map, Map, Function)}.
   *
   * @throws IllegalArgumentException whose message starts with the bad key's path ({@code
   *     postprocessing.top_k: expected an integer >= 1, got 0})
   */
  public static ModelProcessing fromMaps(@Nullable Map<String, ?> preprocessing,
      @Nullable Map<String, ?> postprocessing) {
    return read(preprocessing, postprocessing, null);
  }

  /**
   * Reads processing as {@link #fromMaps(Map, Map)} does; a {@code labels_file} value goes through
   * {@code labelsFiles}, which returns the file to read now (resolved and confined as the caller
   * needs; it refuses a value by throwing {@link IllegalArgumentException}).
   */
  public static ModelProcessing fromMaps(@Nullable Map<String, ?> preprocessing,
      @Nullable Map<String, ?> postprocessing, Function<String, Path> labelsFiles) {
    Objects.requireNonNull(labelsFiles, "labelsFiles");
    return read(preprocessing, postprocessing, labelsFiles);
  }

  private static ModelProcessing read(@Nullable Map<String, ?> preprocessing,
      @Nullable Map<String, ?> postprocessing, @Nullable Function<String, Path> labelsFiles) {
    return new ModelProcessing(
        preprocessing == null ? null : MapReader.pre(preprocessing, "preprocessing"),
        postprocessing == null ? null
            : MapReader.post(postprocessing, "postprocessing", labelsFiles));
  }

  /**
   * Answers the top {@code count} classes of each row of {@code output} as the Open Inference
   * Protocol's classification extension does (Triton): a STRING tensor of shape [batch, count]
   * (of [count] for an output of rank 1) whose elements are {@code "<value>:<index>"} or, with
   * labels, {@code "<value>:<index>:<label>"}, highest value first (ties: lower index first). The
   * classes of a row are all its elements; floating-point values have six decimals.
   *
   * @param name the output's name, for errors
   * @param labels the class names, or null
   * @throws dev.modserv.api.ModelServingException {@code INVALID_INPUT} for a scalar, a BOOL or
   *     STRING output, or labels that do not match the class count
   * @throws IllegalArgumentException when {@code count} is below 1
   */
  public static Tensor classify(String name, Tensor output, int count,
      @Nullable List<String> labels) {
    return Classification.classify(name, output, count, labels);
  }

  /** Returns whether this gives preprocessing (which may be empty: then it turns it off). */
  public boolean hasPreprocessing() {
    return pre != null;
  }

  /** Returns whether this gives postprocessing (which may be empty: then it turns it off). */
  public boolean hasPostprocessing() {
    return post != null;
  }

  /** Returns whether it changes nothing. */
  public boolean isEmpty() {
    return (pre == null || pre.isEmpty()) && (post == null || post.isEmpty());
  }

  /** Returns the top-k count of its postprocessing, or 0 when it answers no top-k. */
  public int topK() {
    return post == null ? 0 : post.topK();
  }

  /**
   * Returns this processing where it gives a part, {@code fallback}'s part otherwise: how a
   * request's processing replaces the model's.
   */
  public ModelProcessing orElse(ModelProcessing fallback) {
    if ((pre != null && post != null) || fallback == NOT_GIVEN) {
      return this;
    }
    return new ModelProcessing(pre != null ? pre : fallback.pre,
        post != null ? post : fallback.post);
  }

  /**
   * Returns {@code request} with its inputs preprocessed; the same request when nothing applies.
   *
   * @throws dev.modserv.api.ModelServingException {@code INVALID_INPUT} naming the operation that
   *     does not fit the inputs
   */
  public InferenceRequest preprocess(InferenceRequest request) {
    if (pre == null || pre.isEmpty()) {
      return request;
    }
    Map<String, Tensor> inputs = pre.apply(request.inputs());
    return inputs == request.inputs() ? request : request.withInputs(inputs);
  }

  /**
   * Returns {@code result} with its outputs postprocessed; the same result when nothing applies.
   *
   * @throws dev.modserv.api.ModelServingException {@code INVALID_INPUT} naming the option that
   *     does not fit the outputs
   */
  public InferenceResult postprocess(InferenceResult result) {
    if (post == null || post.isEmpty()) {
      return result;
    }
    return new InferenceResult(result.model(), result.version(), post.apply(result.outputs()),
        result.timings());
  }

  /**
   * Runs {@code request} through {@code submit} between pre- and post-processing, timing both
   * with {@code ticker}: the request path's one place for processing.
   */
  CompletableFuture<InferenceResult> run(InferenceRequest request, Ticker ticker,
      Function<InferenceRequest, CompletableFuture<InferenceResult>> submit) {
    if (isEmpty()) {
      return submit.apply(request);
    }
    long start = ticker.read();
    InferenceRequest preprocessed;
    try {
      preprocessed = preprocess(request);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    long preNanos = ticker.read() - start;
    return submit.apply(preprocessed).thenApply(result -> {
      long postStart = ticker.read();
      InferenceResult out = postprocess(result);
      long postNanos = ticker.read() - postStart;
      Timings t = result.timings();
      Duration preDuration = Duration.ofNanos(preNanos);
      // The batcher's queue time counts from submission, which preprocessing came after.
      Duration queue = t.queue().compareTo(preDuration) > 0 ? t.queue().minus(preDuration)
          : Duration.ZERO;
      return new InferenceResult(out.model(), out.version(), out.outputs(), new Timings(queue,
          t.inference(), t.total().plusNanos(postNanos), preDuration,
          Duration.ofNanos(postNanos), t.cached()));
    });
  }

  @Override
  public String toString() {
    return "ModelProcessing[pre=" + pre + ", post=" + post + "]";
  }

  /**
   * Builds {@link ModelProcessing}. Preprocessing operations apply in the order of the calls (each
   * may be given more than once); the postprocessing options may each be set once.
   */
  public static final class Builder {
    private final List<Op> ops = new ArrayList<>();
    private @Nullable Set<String> inputs;
    private boolean post;
    private boolean softmax;
    private @Nullable Double threshold;
    private boolean argmax;
    private int topK;
    private int classification;
    private @Nullable List<String> labels;
    private @Nullable Set<String> outputs;

    private Builder() {}

    private static void once(boolean set, String what) {
      if (set) {
        throw new IllegalStateException(what + " was already set");
      }
    }

    /** Multiplies inputs by {@code factor}. */
    public Builder scale(double factor) {
      if (!Double.isFinite(factor)) {
        throw new IllegalArgumentException("scale must be finite: " + factor);
      }
      ops.add(new Op.Scale(factor));
      return this;
    }

    /** Maps {@code [min, max]} onto {@code [0, 1]}: (x - min) / (max - min). */
    public Builder normalize(double min, double max) {
      if (!(max > min) || !Double.isFinite(min) || !Double.isFinite(max)) {
        throw new IllegalArgumentException("normalize needs finite min < max: " + min + ", "
            + max);
      }
      ops.add(new Op.Normalize(min, max));
      return this;
    }

    /**
     * (x / divisor - mean[c]) / std[c] along the last axis, as the camelCase clients' {@code
     * normalize: true} with {@code scale}, {@code mean} and {@code std} asks.
     */
    public Builder normalize(double divisor, double[] mean, double[] std) {
      if (divisor == 0 || !Double.isFinite(divisor)) {
        throw new IllegalArgumentException("normalize divides by scale; it must be finite and"
            + " not 0: " + divisor);
      }
      Op.Standardize standardize = Op.Standardize.of(mean, std, -1, "normalize");
      ops.add(new Op.Divide(divisor));
      ops.add(standardize);
      return this;
    }

    /** (x - mean[c]) / std[c] along the last axis; one value applies to every channel. */
    public Builder standardize(double[] mean, double[] std) {
      return standardize(mean, std, -1);
    }

    /** (x - mean[c]) / std[c] along {@code axis} (negative counts from the end). */
    public Builder standardize(double[] mean, double[] std, int axis) {
      ops.add(Op.Standardize.of(mean, std, axis, "standardize"));
      return this;
    }

    /** Preprocesses only these inputs; defaults to every FP32 and FP64 input. */
    public Builder inputs(String... names) {
      once(inputs != null, "inputs");
      inputs = Set.of(names);
      return this;
    }

    /** Applies softmax along each output's last axis. */
    public Builder softmax() {
      once(softmax, "softmax");
      post = true;
      softmax = true;
      return this;
    }

    /**
     * Alone: answers a BOOL tensor, score >= {@code value}; with {@link #topK}: drops classes
     * scoring below it.
     */
    public Builder threshold(double value) {
      once(threshold != null, "threshold");
      if (!Double.isFinite(value)) {
        throw new IllegalArgumentException("threshold must be finite: " + value);
      }
      post = true;
      threshold = value;
      return this;
    }

    /** Answers the index (INT64), or the label (STRING), of the best class of each row. */
    public Builder argmax() {
      once(argmax, "argmax");
      post = true;
      argmax = true;
      return this;
    }

    /** Answers the {@code k} best classes of each row; see {@link #SCORES_SUFFIX}. */
    public Builder topK(int k) {
      if (k < 1) {
        throw new IllegalArgumentException("topK must be >= 1: " + k);
      }
      once(topK > 0, "topK");
      post = true;
      topK = k;
      return this;
    }

    /**
     * Answers the {@code count} best classes of each row as Triton's classification strings; see
     * {@link ModelProcessing#classify}.
     */
    public Builder classification(int count) {
      if (count < 1) {
        throw new IllegalArgumentException("classification must be >= 1: " + count);
      }
      once(classification > 0, "classification");
      post = true;
      classification = count;
      return this;
    }

    /** Names the classes, in order. */
    public Builder labels(List<String> names) {
      once(labels != null, "labels");
      if (names.isEmpty()) {
        throw new IllegalArgumentException("labels must not be empty");
      }
      post = true;
      labels = List.copyOf(names);
      return this;
    }

    /** Reads the class names from {@code file}, one per line, now. */
    public Builder labelsFile(Path file) {
      once(labels != null, "labels");
      post = true;
      labels = MapReader.readLabels(file, "labelsFile");
      return this;
    }

    /** Postprocesses only these outputs; defaults to every FP32 and FP64 output. */
    public Builder outputs(String... names) {
      once(outputs != null, "outputs");
      outputs = Set.of(names);
      return this;
    }

    /**
     * Builds it; the builder can build again.
     *
     * @throws IllegalArgumentException for options that do not go together (argmax with top-k,
     *     labels without either)
     */
    public ModelProcessing build() {
      Preprocessing p = ops.isEmpty() && inputs == null ? null : new Preprocessing(ops, inputs);
      Postprocessing q = post ? Postprocessing.of(softmax, threshold, argmax, topK,
          classification, labels, outputs, "processing") : null;
      return new ModelProcessing(p, q);
    }
  }
}
