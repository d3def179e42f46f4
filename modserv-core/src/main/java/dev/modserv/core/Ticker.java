package dev.modserv.core;

/**
 * A source of nanosecond time, for timings and deadlines. Tests pass a fake one to the builder.
 */
@FunctionalInterface
public interface Ticker {
  /** Returns the current time in nanoseconds, from an arbitrary origin. */
  long read();

  /** Returns the ticker backed by {@link System#nanoTime()}. */
  static Ticker system() {
    return System::nanoTime;
  }
}
