package dev.modserv.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Resident memory (Linux {@code VmRSS}) as tests and benchmarks measure it against the node fit
 * estimates: what a load adds to this process, plus the whole of any child process it started (a
 * llama worker).
 */
public final class ResidentMemory {
  private ResidentMemory() {}

  /** Work that may throw, such as a model load. */
  @FunctionalInterface
  public interface Load {
    /** Runs the load. */
    void run() throws Exception;
  }

  /**
   * Runs {@code load} and returns the resident bytes it added to this process after {@code
   * settle}, plus the resident bytes of every process this one has started.
   */
  public static long addedBy(Load load, Duration settle) throws Exception {
    long before = of(ProcessHandle.current().pid());
    load.run();
    Thread.sleep(settle.toMillis());
    long after = of(ProcessHandle.current().pid());
    long children = ProcessHandle.current().descendants().mapToLong(h -> of(h.pid())).sum();
    return after - before + children;
  }

  /** Returns the resident bytes of process {@code pid}; 0 when it is gone (or not on Linux). */
  public static long of(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException gone) {
      return 0;
    }
    return 0;
  }
}
