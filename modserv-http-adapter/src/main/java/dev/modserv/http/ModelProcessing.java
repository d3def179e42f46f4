package dev.modserv.http;

import dev.modserv.http.internal.HttpError;
import dev.modserv.http.internal.Json;
import dev.modserv.http.internal.Processing;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Pre- and post-processing that the native API applies to every request of one model that brings
 * none of its own ({@link HttpAdapter.Builder#processing}); the same operations as the requests'
 * {@code preprocessing} and {@code postprocessing} objects ({@code docs/http.md}).
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
  private final Processing.Spec spec;

  private ModelProcessing(Processing.Spec spec) {
    this.spec = spec;
  }

  /** Returns a builder with no operations. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads processing written as a request's {@code preprocessing} and {@code postprocessing}
   * objects are ({@code docs/http.md}), e.g. from a configuration file; either may be null. A
   * {@code labels_file} is read at request time, inside the management model root.
   *
   * @throws IllegalArgumentException naming the bad key ({@code postprocessing.top_k: ...})
   */
  public static ModelProcessing fromMaps(@Nullable Map<String, ?> preprocessing,
      @Nullable Map<String, ?> postprocessing) {
    try {
      Processing.Pre pre = preprocessing == null ? null
          : Processing.readPre(Json.MAPPER.valueToTree(preprocessing), "preprocessing");
      Processing.Post post = postprocessing == null ? null
          : Processing.readPost(Json.MAPPER.valueToTree(postprocessing), "postprocessing");
      return new ModelProcessing(new Processing.Spec(pre, post));
    } catch (HttpError e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  Processing.Spec spec() {
    return spec;
  }

  /**
   * Operations in the order of the calls for preprocessing (FP32 and FP64 inputs; each may be
   * given more than once); the postprocessing options, each set once, apply softmax first, then
   * argmax, top-k or threshold.
   */
  public static final class Builder {
    private final List<Processing.Op> ops = new ArrayList<>();
    private @Nullable Set<String> inputs;
    private boolean post;
    private boolean softmax;
    private @Nullable Double threshold;
    private boolean argmax;
    private int topK;
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
      ops.add(new Processing.Scale(factor));
      return this;
    }

    /** Maps {@code [min, max]} onto {@code [0, 1]}: (x - min) / (max - min). */
    public Builder normalize(double min, double max) {
      if (!(max > min) || !Double.isFinite(min) || !Double.isFinite(max)) {
        throw new IllegalArgumentException("normalize needs finite min < max: " + min + ", "
            + max);
      }
      ops.add(new Processing.Normalize(min, max));
      return this;
    }

    /** (x - mean[c]) / std[c] along the last axis; one value applies to every channel. */
    public Builder standardize(double[] mean, double[] std) {
      return standardize(mean, std, -1);
    }

    /** (x - mean[c]) / std[c] along {@code axis} (negative counts from the end). */
    public Builder standardize(double[] mean, double[] std, int axis) {
      ops.add(call(() -> Processing.standardize(mean, std, axis, "standardize")));
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

    /** Answers the index (or label) of the best class of each row. */
    public Builder argmax() {
      once(argmax, "argmax");
      post = true;
      argmax = true;
      return this;
    }

    /** Answers the {@code k} best classes of each row, with index, score and label. */
    public Builder topK(int k) {
      if (k < 1) {
        throw new IllegalArgumentException("topK must be >= 1: " + k);
      }
      once(topK > 0, "topK");
      post = true;
      topK = k;
      return this;
    }

    /** Names the classes, in order. */
    public Builder labels(List<String> names) {
      once(labels != null, "labels");
      post = true;
      labels = List.copyOf(names);
      return this;
    }

    /** Reads the class names from {@code file}, one per line, now. */
    public Builder labelsFile(Path file) {
      once(labels != null, "labels");
      post = true;
      labels = call(() -> Processing.readLabels(file, "labelsFile"));
      return this;
    }

    /** Postprocesses only these outputs; defaults to every FP32 and FP64 output. */
    public Builder outputs(String... names) {
      once(outputs != null, "outputs");
      outputs = Set.of(names);
      return this;
    }

    /**
     * Builds it.
     *
     * @throws IllegalArgumentException for options that do not go together (argmax with top-k,
     *     labels without either)
     */
    public ModelProcessing build() {
      Processing.Pre pre = ops.isEmpty() ? null : new Processing.Pre(List.copyOf(ops), inputs);
      Processing.Post p = post ? call(() -> Processing.post(softmax, threshold, argmax, topK,
          labels, null, outputs, "processing")) : null;
      return new ModelProcessing(new Processing.Spec(pre, p));
    }

    private static <T> T call(java.util.function.Supplier<T> s) {
      try {
        return s.get();
      } catch (HttpError e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    }
  }
}
