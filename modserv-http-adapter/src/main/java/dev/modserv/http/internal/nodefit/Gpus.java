package dev.modserv.http.internal.nodefit;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * This node's GPUs: from {@code nvidia-smi --query-gpu} when it is on the {@code PATH} (names,
 * total and free memory, driver), else from {@code /proc/driver/nvidia} (names and driver; no
 * memory figures), else none.
 */
final class Gpus {
  /** The query, as NVIDIA documents it; {@code nounits} gives memory in MiB. */
  static final List<String> QUERY = List.of("--query-gpu=index,name,memory.total,memory.free,"
      + "driver_version", "--format=csv,noheader,nounits");

  private static final long MIB = 1L << 20;
  private static final java.util.regex.Pattern VERSION =
      java.util.regex.Pattern.compile("\\b(\\d+\\.\\d+(?:\\.\\d+)?)\\b");
  private static final long TIMEOUT_SECONDS = 5;

  /**
   * One GPU.
   *
   * @param memoryTotalBytes -1 when unknown
   * @param memoryFreeBytes -1 when unknown
   * @param driverVersion empty when unknown
   * @param source {@code nvidia-smi} or {@code proc}
   */
  record Gpu(int index, String name, String vendor, long memoryTotalBytes, long memoryFreeBytes,
      String driverVersion, String source) {}

  private Gpus() {}

  /** The GPUs, looking for {@code nvidia-smi} on {@code env}'s {@code PATH}, then in /proc. */
  static List<Gpu> detect(Map<String, String> env, Path procNvidia) {
    Path smi = onPath(env.get("PATH"), "nvidia-smi");
    if (smi != null) {
      List<Gpu> found = query(smi);
      if (!found.isEmpty()) {
        return found;
      }
    }
    return proc(procNvidia);
  }

  /** The executable {@code name} in the first folder of {@code path} that holds one. */
  static @Nullable Path onPath(@Nullable String path, String name) {
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      try {
        Path p = Path.of(dir, name);
        if (Files.isRegularFile(p) && Files.isExecutable(p)) {
          return p;
        }
      } catch (RuntimeException badEntry) {
        // An unusable PATH entry: the next one.
      }
    }
    return null;
  }

  /** Runs the query; empty when it fails, times out or prints nothing usable. */
  static List<Gpu> query(Path smi) {
    List<String> command = new ArrayList<>();
    command.add(smi.toString());
    command.addAll(QUERY);
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(false)
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      return List.of();
    }
    try (InputStream out = p.getInputStream()) {
      // The answer is a line per GPU: 64 KiB is far more than any node's.
      String text = new String(out.readNBytes(1 << 16), StandardCharsets.UTF_8);
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return List.of();
      }
      return parse(text);
    } catch (IOException e) {
      return List.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    } finally {
      p.destroy();
    }
  }

  /** Lines such as {@code 0, NVIDIA H200, 143771, 143252, 570.124.06}; bad lines are left out. */
  static List<Gpu> parse(String text) {
    List<Gpu> gpus = new ArrayList<>();
    for (String line : text.split("\\R")) {
      String[] f = line.split(",");
      if (f.length != 5) {
        continue;
      }
      try {
        int index = Integer.parseInt(f[0].trim());
        gpus.add(new Gpu(index, f[1].trim(), "nvidia", mib(f[2]), mib(f[3]), f[4].trim(),
            "nvidia-smi"));
      } catch (NumberFormatException e) {
        // Not a GPU line (a warning): skip it.
      }
    }
    return gpus;
  }

  /** MiB as bytes; -1 for {@code [N/A]} or anything not a whole number. */
  private static long mib(String field) {
    try {
      long v = Long.parseLong(field.trim());
      return v < 0 || v > Long.MAX_VALUE / MIB ? -1 : v * MIB;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** NVIDIA GPUs the driver lists under {@code procNvidia}/gpus, with the driver's version. */
  static List<Gpu> proc(Path procNvidia) {
    List<Gpu> out = new ArrayList<>();
    Path dir = procNvidia.resolve("gpus");
    if (!Files.isDirectory(dir)) {
      return out;
    }
    String driver = driver(procNvidia.resolve("version"));
    try (Stream<Path> cards = Files.list(dir)) {
      int index = 0;
      for (Path card : new TreeSet<>(cards.toList())) {
        String model = "NVIDIA GPU";
        try {
          for (String line : Files.readAllLines(card.resolve("information"))) {
            if (line.startsWith("Model:")) {
              model = line.substring(6).trim();
            }
          }
        } catch (IOException | RuntimeException e) {
          // Keep the generic name.
        }
        out.add(new Gpu(index++, model, "nvidia", -1, -1, driver, "proc"));
      }
    } catch (IOException e) {
      return out;
    }
    return out;
  }

  /** The version in {@code NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.124.06  ...}. */
  static String driver(Path versionFile) {
    try {
      for (String line : Files.readAllLines(versionFile)) {
        if (line.startsWith("NVRM version:")) {
          java.util.regex.Matcher m = VERSION.matcher(line);
          if (m.find()) {
            return m.group(1);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      return "";
    }
    return "";
  }
}
