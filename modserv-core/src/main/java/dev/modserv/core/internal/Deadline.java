package dev.modserv.core.internal;

import dev.modserv.core.ModelConfig;
import java.time.Duration;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * When a request must be answered: the one deadline rule for every kind of request (inference,
 * generation, and the wait for a load on demand). A request's own timeout wins; else its model's
 * default timeout ({@code BatchingPolicy.defaultTimeout}, as configured now); else the server's
 * default; else none.
 *
 * @param timeout the timeout that applies, or null for none
 * @param nanos the deadline in ticker nanos, {@link Long#MAX_VALUE} for none
 */
record Deadline(@Nullable Duration timeout, long nanos) {
  static final Deadline NONE = new Deadline(null, Long.MAX_VALUE);

  static Deadline of(Optional<Duration> own, ModelConfig model, @Nullable Duration serverDefault,
      long submittedNanos) {
    Duration timeout = own.or(() -> model.batching().defaultTimeout()).orElse(serverDefault);
    return timeout == null ? NONE : new Deadline(timeout, submittedNanos + timeout.toNanos());
  }

  boolean bounded() {
    return timeout != null;
  }
}
