package dev.modserv.http.internal.nodefit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPU detection: a fake {@code nvidia-smi} first on the {@code PATH} printing lines in the format
 * of the real one, the {@code /proc/driver/nvidia} fallback, and neither.
 */
class GpusTest {
  /** What {@code nvidia-smi --query-gpu=index,name,memory.total,memory.free,driver_version
   * --format=csv,noheader,nounits} prints on a node with two H200s: written by hand in its format,
   * not yet captured from a real node (none was lent when this was written). */
  static final String RECORDED = "0, NVIDIA H200, 143771, 143252, 570.124.06\n"
      + "1, NVIDIA H200, 143771, 20480, 570.124.06\n";

  @TempDir Path dir;

  /** Writes an executable {@code nvidia-smi} that checks its arguments and prints {@code out}. */
  Path fakeSmi(String out, int exit) throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path smi = bin.resolve("nvidia-smi");
    Files.writeString(smi, "#!/bin/sh\n"
        + "[ \"$1\" = \"" + Gpus.QUERY.get(0) + "\" ] && [ \"$2\" = \"" + Gpus.QUERY.get(1)
        + "\" ] || { echo \"unexpected arguments: $*\" >&2; exit 9; }\n"
        + "cat <<'END'\n" + out + "END\nexit " + exit + "\n");
    Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
    return bin;
  }

  @Test
  void aFakeNvidiaSmiFirstOnThePathGivesNamesMemoryAndDriver() throws Exception {
    Path bin = fakeSmi(RECORDED, 0);
    List<Gpus.Gpu> gpus = Gpus.detect(Map.of("PATH", bin + ":/usr/bin:/bin"),
        dir.resolve("no-proc"));
    assertThat(gpus).containsExactly(
        new Gpus.Gpu(0, "NVIDIA H200", "nvidia", 143771L << 20, 143252L << 20, "570.124.06",
            "nvidia-smi"),
        new Gpus.Gpu(1, "NVIDIA H200", "nvidia", 143771L << 20, 20480L << 20, "570.124.06",
            "nvidia-smi"));
  }

  @Test
  void withoutNvidiaSmiTheDriverFolderNamesTheGpusWithoutMemory() throws Exception {
    Path proc = dir.resolve("proc-nvidia");
    Files.createDirectories(proc.resolve("gpus/0000:1b:00.0"));
    Files.writeString(proc.resolve("gpus/0000:1b:00.0/information"),
        "Model: \t\t NVIDIA H200\nIRQ:   \t\t 150\nBus Type: \t PCIe\n");
    Files.writeString(proc.resolve("version"), "NVRM version: NVIDIA UNIX x86_64 Kernel Module"
        + "  570.124.06  Fri Feb 28 2025\nGCC version:  gcc version 12.2.0\n");
    assertThat(Gpus.detect(Map.of("PATH", dir.resolve("empty").toString()), proc))
        .containsExactly(new Gpus.Gpu(0, "NVIDIA H200", "nvidia", -1, -1, "570.124.06", "proc"));
  }

  @Test
  void aFailingNvidiaSmiFallsBackAndNoGpuGivesNone() throws Exception {
    Path bin = fakeSmi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA"
        + " driver.\n", 9);
    assertThat(Gpus.detect(Map.of("PATH", bin.toString()), dir.resolve("no-proc"))).isEmpty();
    assertThat(Gpus.detect(Map.of(), dir.resolve("no-proc"))).isEmpty();
  }

  @Test
  void linesThatAreNotGpusAreLeftOutAndNotAvailableMemoryIsUnknown() {
    assertThat(Gpus.parse("WARNING: something\n0, NVIDIA A10, [N/A], [N/A], 535.1\n"))
        .containsExactly(new Gpus.Gpu(0, "NVIDIA A10", "nvidia", -1, -1, "535.1",
            "nvidia-smi"));
  }
}
