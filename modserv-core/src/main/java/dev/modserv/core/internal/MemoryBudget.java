package dev.modserv.core.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;

/**
 * The server-wide budget of native memory for loaded models: bytes reserved by loading versions
 * and held by loaded ones. Its monitor is a leaf lock: nothing else is locked while holding it.
 */
final class MemoryBudget {
  private final long max;
  @GuardedBy("this")
  private long used;

  MemoryBudget(long max) {
    this.max = max;
  }

  long max() {
    return max;
  }

  synchronized long used() {
    return used;
  }

  /** Reserves {@code bytes} if they fit. */
  synchronized boolean tryReserve(long bytes) {
    if (used + bytes > max || used + bytes < 0) {
      return false;
    }
    used += bytes;
    return true;
  }

  /** Adds (or, negative, gives back) {@code bytes}, whether or not they fit. */
  synchronized void add(long bytes) {
    used += bytes;
  }

  synchronized boolean over() {
    return used > max;
  }
}
