package dev.modserv.server.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Reads (or copies) big model files with a progress line every 10%: percent and bytes. What it
 * measures is the reading of the files, which also brings them into the page cache; the engine's
 * own load comes after and is timed as a whole.
 */
public final class Progress {
  private static final int BUFFER = 1 << 20;

  private final long threshold;
  private final Consumer<String> out;

  /**
   * @param threshold the total size from which progress is shown, in bytes
   * @param out where the lines go (a logger)
   */
  public Progress(long threshold, Consumer<String> out) {
    this.threshold = threshold;
    this.out = out;
  }

  /** Returns the total size of the regular files under {@code location} (or of the file). */
  public static long size(Path location) throws IOException {
    if (Files.isRegularFile(location)) {
      return Files.size(location);
    }
    long total = 0;
    for (Path p : files(location)) {
      total += Files.size(p);
    }
    return total;
  }

  /**
   * Reads every file under {@code location}, showing progress when the total is at least the
   * threshold. Returns the total bytes.
   */
  public long read(String what, Path location) throws IOException {
    List<Path> files = Files.isRegularFile(location) ? List.of(location) : files(location);
    long total = 0;
    for (Path p : files) {
      total += Files.size(p);
    }
    if (total < threshold) {
      return total;
    }
    Meter meter = new Meter("reading " + what, total);
    byte[] buffer = new byte[BUFFER];
    for (Path p : files) {
      try (InputStream in = Files.newInputStream(p)) {
        for (int n; (n = in.read(buffer)) > 0; ) {
          meter.advance(n);
        }
      }
    }
    meter.done();
    return total;
  }

  /** Copies {@code in} ({@code total} bytes, -1 when unknown) to {@code to}, with progress. */
  public void copy(String what, InputStream in, long total, OutputStream to) throws IOException {
    Meter meter = total >= threshold ? new Meter("copying " + what, total) : null;
    byte[] buffer = new byte[BUFFER];
    for (int n; (n = in.read(buffer)) > 0; ) {
      to.write(buffer, 0, n);
      if (meter != null) {
        meter.advance(n);
      }
    }
    if (meter != null) {
      meter.done();
    }
  }

  private static List<Path> files(Path folder) throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(folder)) {
      walk.filter(Files::isRegularFile).sorted().forEach(files::add);
    }
    return files;
  }

  private final class Meter {
    private final String what;
    private final long total;
    private final long started = System.nanoTime();
    private long done;
    private int shownTenths;

    Meter(String what, long total) {
      this.what = what;
      this.total = total;
      out.accept(what + ": 0% (0 of " + Units.human(total) + ")");
    }

    void advance(int n) {
      done += n;
      int tenths = total <= 0 ? 0 : (int) Math.min(10, done * 10 / total);
      if (tenths > shownTenths && tenths < 10) {
        shownTenths = tenths;
        out.accept(what + ": " + tenths * 10 + "% (" + Units.human(done) + " of "
            + Units.human(total) + ")");
      }
    }

    void done() {
      double seconds = (System.nanoTime() - started) / 1e9;
      out.accept(String.format(Locale.ROOT, "%s: 100%% (%s in %.1f s)", what,
          Units.human(done), seconds));
    }
  }
}
