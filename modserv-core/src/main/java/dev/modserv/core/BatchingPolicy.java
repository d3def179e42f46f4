package dev.modserv.core;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.SortedSet;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * How concurrent requests to one model version are queued and batched. Sizes count <b>rows</b>
 * (the sum of the requests' first dimensions), as in Triton and TF Serving.
 *
 * <p>The batcher follows Triton's dynamic batcher: when an engine instance is free, it walks the
 * queue (priority, then arrival) and sends at once the largest prefix whose size is a preferred
 * size, or a full batch; otherwise it waits until the oldest request of the pending batch has
 * waited {@link #maxQueueDelay()}, and sends what it has. With a delay of zero (the default) it
 * sends whatever is queued, up to {@link #maxBatchSize()}, as soon as an instance is free: no
 * added latency when idle, larger batches under load. A model whose metadata is not {@code
 * BATCHABLE} gets one request per engine call, through the same bounded queue.
 *
 * <pre>{@code
 * BatchingPolicy policy = BatchingPolicy.builder()
 *     .maxBatchSize(32)
 *     .preferredBatchSizes(8, 16, 32)
 *     .maxQueueDelay(Duration.ofMillis(2))
 *     .maxQueueSize(256)
 *     .build();
 * }</pre>
 */
public final class BatchingPolicy {
  private static final BatchingPolicy DEFAULTS = builder().build();

  private final int maxBatchSize;
  private final SortedSet<Integer> preferredBatchSizes;
  private final Duration maxQueueDelay;
  private final int maxQueueSize;
  private final int priorityLevels;
  private final @Nullable Duration defaultTimeout;
  private final OptionalInt instances;
  private final Map<String, Double> padding;
  private final Map<String, Integer> trimmedOutputs;

  private BatchingPolicy(Builder b) {
    this.maxBatchSize = b.maxBatchSize;
    TreeSet<Integer> preferred = new TreeSet<>(b.preferredBatchSizes);
    if (preferred.isEmpty()) {
      preferred.add(b.maxBatchSize);
    }
    this.preferredBatchSizes = Collections.unmodifiableSortedSet(preferred);
    this.maxQueueDelay = b.maxQueueDelay;
    this.maxQueueSize = b.maxQueueSize;
    this.priorityLevels = b.priorityLevels;
    this.defaultTimeout = b.defaultTimeout;
    this.instances = b.instancesSet ? OptionalInt.of(b.instances) : OptionalInt.empty();
    this.padding = Collections.unmodifiableMap(new LinkedHashMap<>(b.padding));
    this.trimmedOutputs = Collections.unmodifiableMap(new LinkedHashMap<>(b.trimmedOutputs));
  }

  /** Returns the policy of models that set none: batches of up to 32 rows, no delay. */
  public static BatchingPolicy defaults() {
    return DEFAULTS;
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the most rows one engine call takes; defaults to 32. */
  public int maxBatchSize() {
    return maxBatchSize;
  }

  /** Returns the batch sizes sent without waiting; {@code {maxBatchSize}} when none were set. */
  public SortedSet<Integer> preferredBatchSizes() {
    return preferredBatchSizes;
  }

  /** Returns how long the oldest queued request may wait for its batch to fill; defaults to 0. */
  public Duration maxQueueDelay() {
    return maxQueueDelay;
  }

  /** Returns the most requests the queue holds; one more is refused with QUEUE_FULL. 1024. */
  public int maxQueueSize() {
    return maxQueueSize;
  }

  /** Returns the number of priority levels; requests give 0 (first) to levels - 1. Defaults to 1. */
  public int priorityLevels() {
    return priorityLevels;
  }

  /** Returns the timeout of requests that set none, if any. */
  public Optional<Duration> defaultTimeout() {
    return Optional.ofNullable(defaultTimeout);
  }

  /**
   * Returns how many engine calls of this model may run at once, when set. When empty (the
   * default), the model runs as many as its engine says it can ({@code LoadedModel.concurrentRuns},
   * e.g. one per available processor for ONNX Runtime, 1 for engines that serialise runs).
   */
  public OptionalInt instances() {
    return instances;
  }

  /**
   * Returns the inputs that may be padded, with their padding value: requests whose such inputs
   * differ in a dimension after the first are stacked after padding to the batch's largest.
   */
  public Map<String, Double> padding() {
    return padding;
  }

  /**
   * Returns the outputs cut back after a padded batch, with the axis cut: along it, each request
   * gets the length of axis 1 of its first padded input.
   */
  public Map<String, Integer> trimmedOutputs() {
    return trimmedOutputs;
  }

  @Override
  public String toString() {
    return "BatchingPolicy[maxBatchSize=" + maxBatchSize + ", preferred=" + preferredBatchSizes
        + ", maxQueueDelay=" + maxQueueDelay + ", maxQueueSize=" + maxQueueSize
        + ", priorityLevels=" + priorityLevels + ", instances="
        + (instances.isPresent() ? Integer.toString(instances.getAsInt()) : "engine's") + "]";
  }

  /** Builds a {@link BatchingPolicy}; each setting is checked when set and may be set once. */
  public static final class Builder {
    private int maxBatchSize = 32;
    private boolean maxBatchSizeSet;
    private final TreeSet<Integer> preferredBatchSizes = new TreeSet<>();
    private Duration maxQueueDelay = Duration.ZERO;
    private boolean maxQueueDelaySet;
    private int maxQueueSize = 1024;
    private boolean maxQueueSizeSet;
    private int priorityLevels = 1;
    private boolean priorityLevelsSet;
    private @Nullable Duration defaultTimeout;
    private int instances = 1;
    private boolean instancesSet;
    private final Map<String, Double> padding = new LinkedHashMap<>();
    private final Map<String, Integer> trimmedOutputs = new LinkedHashMap<>();

    private Builder() {}

    private static void once(boolean set, String name, Object value) {
      if (set) {
        throw new IllegalStateException(name + " was already set to " + value);
      }
    }

    /** Sets the most rows per engine call; at least 1. */
    public Builder maxBatchSize(int rows) {
      once(maxBatchSizeSet, "maxBatchSize", maxBatchSize);
      if (rows < 1) {
        throw new IllegalArgumentException("maxBatchSize must be >= 1: " + rows);
      }
      maxBatchSize = rows;
      maxBatchSizeSet = true;
      return this;
    }

    /** Sets the batch sizes sent at once; each between 1 and maxBatchSize (checked in build). */
    public Builder preferredBatchSizes(int... rows) {
      once(!preferredBatchSizes.isEmpty(), "preferredBatchSizes", preferredBatchSizes);
      for (int r : rows) {
        if (r < 1) {
          throw new IllegalArgumentException("preferred batch sizes must be >= 1: " + r);
        }
        preferredBatchSizes.add(r);
      }
      return this;
    }

    /** Sets how long the oldest request may wait for its batch to fill; zero or more. */
    public Builder maxQueueDelay(Duration delay) {
      once(maxQueueDelaySet, "maxQueueDelay", maxQueueDelay);
      if (delay.isNegative()) {
        throw new IllegalArgumentException("maxQueueDelay must not be negative: " + delay);
      }
      maxQueueDelay = delay;
      maxQueueDelaySet = true;
      return this;
    }

    /** Sets the most requests queued; at least 1. */
    public Builder maxQueueSize(int requests) {
      once(maxQueueSizeSet, "maxQueueSize", maxQueueSize);
      if (requests < 1) {
        throw new IllegalArgumentException("maxQueueSize must be >= 1: " + requests);
      }
      maxQueueSize = requests;
      maxQueueSizeSet = true;
      return this;
    }

    /** Sets the number of priority levels; at least 1. */
    public Builder priorityLevels(int levels) {
      once(priorityLevelsSet, "priorityLevels", priorityLevels);
      if (levels < 1) {
        throw new IllegalArgumentException("priorityLevels must be >= 1: " + levels);
      }
      priorityLevels = levels;
      priorityLevelsSet = true;
      return this;
    }

    /** Sets the timeout of requests that set none; positive. */
    public Builder defaultTimeout(Duration timeout) {
      once(defaultTimeout != null, "defaultTimeout", String.valueOf(defaultTimeout));
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("defaultTimeout must be positive: " + timeout);
      }
      defaultTimeout = timeout;
      return this;
    }

    /**
     * Sets how many engine calls of the model may run at once; at least 1. Unset, the engine's
     * own figure applies.
     */
    public Builder instances(int count) {
      once(instancesSet, "instances", instances);
      if (count < 1) {
        throw new IllegalArgumentException("instances must be >= 1: " + count);
      }
      instances = count;
      instancesSet = true;
      return this;
    }

    /** Lets {@code input} be padded with {@code value} to stack requests of different shapes. */
    public Builder pad(String input, double value) {
      if (input.isEmpty()) {
        throw new IllegalArgumentException("input name must not be empty");
      }
      if (padding.putIfAbsent(input, value) != null) {
        throw new IllegalStateException("padding of '" + input + "' was already set");
      }
      return this;
    }

    /** Cuts {@code output} back along {@code axis} (at least 1) after a padded batch. */
    public Builder trimOutput(String output, int axis) {
      if (axis < 1) {
        throw new IllegalArgumentException("trimmed axis must be >= 1 (0 is the batch): " + axis);
      }
      if (trimmedOutputs.putIfAbsent(Objects.requireNonNull(output), axis) != null) {
        throw new IllegalStateException("trimming of '" + output + "' was already set");
      }
      return this;
    }

    /**
     * Returns the policy.
     *
     * @throws IllegalStateException when a preferred size exceeds maxBatchSize, or outputs are
     *     trimmed but no input is padded
     */
    public BatchingPolicy build() {
      if (!preferredBatchSizes.isEmpty() && preferredBatchSizes.last() > maxBatchSize) {
        throw new IllegalStateException("preferred batch size " + preferredBatchSizes.last()
            + " is larger than maxBatchSize " + maxBatchSize);
      }
      if (!trimmedOutputs.isEmpty() && padding.isEmpty()) {
        throw new IllegalStateException(
            "outputs " + trimmedOutputs.keySet() + " are trimmed but no input is padded");
      }
      return new BatchingPolicy(this);
    }
  }
}
