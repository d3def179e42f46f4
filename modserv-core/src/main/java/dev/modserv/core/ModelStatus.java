package dev.modserv.core;

import dev.modserv.api.ModelMetadata;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * A snapshot of one model version.
 *
 * @param name the model's name
 * @param version the version
 * @param state the lifecycle state
 * @param labels the labels that point at this version
 * @param metadata the model's inputs and outputs, once loaded
 * @param loadedAt when it became ready
 * @param warmedUp whether warm-up completed
 * @param memoryBytes the native memory it holds in the server's budget, 0 when none
 * @param queuedRequests requests waiting in its queue now
 * @param maxQueueSize the most requests its queue takes (its batching policy)
 * @param failure what made the load fail, for {@link ModelState#FAILED}
 * @param warmupTime how long its warm-up took, once it has warmed up
 */
public record ModelStatus(
    String name,
    long version,
    ModelState state,
    Set<String> labels,
    Optional<ModelMetadata> metadata,
    Optional<Instant> loadedAt,
    boolean warmedUp,
    long memoryBytes,
    int queuedRequests,
    int maxQueueSize,
    Optional<String> failure,
    Optional<Duration> warmupTime) {

  /** Copies the labels. */
  public ModelStatus {
    labels = Set.copyOf(labels);
  }

  /** Returns whether its queue is full: a new request would get {@code QUEUE_FULL}. */
  public boolean queueFull() {
    return queuedRequests >= maxQueueSize;
  }
}
