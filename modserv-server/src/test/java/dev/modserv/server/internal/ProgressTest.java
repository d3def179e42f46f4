package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressTest {
  @TempDir Path dir;

  @Test
  void showsPercentAndBytesFromTheThresholdOn() throws Exception {
    Files.write(dir.resolve("a.bin"), new byte[3 << 20]);
    Files.write(dir.resolve("b.bin"), new byte[2 << 20]);
    List<String> lines = new ArrayList<>();
    long total = new Progress(4 << 20, lines::add).read("m v1", dir);
    assertThat(total).isEqualTo(5 << 20);
    assertThat(lines.get(0)).isEqualTo("reading m v1: 0% (0 of 5.0 MiB)");
    assertThat(lines.get(lines.size() - 1)).startsWith("reading m v1: 100% (5.0 MiB in ");
    assertThat(lines).contains("reading m v1: 60% (3.0 MiB of 5.0 MiB)");
    assertThat(lines.size()).isBetween(3, 12);

    List<String> none = new ArrayList<>();
    new Progress(6 << 20, none::add).read("m v1", dir);
    assertThat(none).isEmpty();
  }

  @Test
  void copiesWithProgress() throws Exception {
    byte[] data = new byte[5 << 20];
    data[data.length - 1] = 7;
    List<String> lines = new ArrayList<>();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new Progress(1, lines::add).copy("x", new ByteArrayInputStream(data), data.length, out);
    assertThat(out.toByteArray()).isEqualTo(data);
    assertThat(lines.get(lines.size() - 1)).startsWith("copying x: 100% (5.0 MiB in ");
  }
}
