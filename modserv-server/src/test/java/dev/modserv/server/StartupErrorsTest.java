package dev.modserv.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code modserv serve} as a process, started wrong: each mistake is one line on stderr naming it,
 * exit status 2, no stack trace, and no word of models still loading.
 */
class StartupErrorsTest {
  @TempDir Path tmp;

  /** Runs {@code modserv} with {@code args}; returns its exit status and its output lines. */
  private record Run(int status, List<String> lines) {
    String last() {
      return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }
  }

  private Run modserv(String... args) throws Exception {
    // Surefire may put the jars on the module path; as a class path they serve as well.
    String classPath = String.join(File.pathSeparator, System.getProperty("java.class.path"),
        System.getProperty("jdk.module.path", ""));
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", classPath, Main.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("MODSERV_CACHE_DIR", tmp.resolve("cache").toString());
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String text = new String(out, StandardCharsets.UTF_8);
    List<String> lines = text.lines().toList();
    assertThat(text).as(text).doesNotContain("\tat ").doesNotContain("Exception")
        .doesNotContain("still loading");
    return new Run(p.exitValue(), lines);
  }

  @Test
  void aBadOptionIsOneLineAndStatus2() throws Exception {
    Run unknown = modserv("serve", "--no-such-option");
    assertThat(unknown.status()).isEqualTo(2);
    assertThat(unknown.lines()).hasSize(1);
    assertThat(unknown.last()).startsWith("modserv: ").contains("--no-such-option");
    Run badValue = modserv("serve", "--grace-period", "soon");
    assertThat(badValue.status()).isEqualTo(2);
    assertThat(badValue.lines()).hasSize(1);
    assertThat(badValue.last()).contains("--grace-period").contains("soon");
  }

  @Test
  void aMissingOrBadlyNamedModelFileIsOneLineAndStatus2() throws Exception {
    Run missing = modserv("serve", "--port", "0", "--model", tmp.resolve("nope.gguf").toString());
    assertThat(missing.status()).isEqualTo(2);
    assertThat(missing.last()).startsWith("modserv: cannot start: --model ").contains("nope.gguf")
        .contains("no such file");
    Run badName = modserv("serve", "--port", "0", "--model", "-bad=" + tmp.resolve("x.gguf"));
    assertThat(badName.status()).isEqualTo(2);
    assertThat(badName.last()).startsWith("modserv: cannot start: --model ")
        .contains("invalid model name '-bad'");
  }

  @Test
  void aMissingRepositoryOrKeyFileOrABusyPortIsOneLineAndStatus2() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Run noRepo = modserv("serve", "--port", "0", "--model-repository",
        tmp.resolve("missing").toString());
    assertThat(noRepo.status()).isEqualTo(2);
    assertThat(noRepo.last()).startsWith("modserv: cannot start: ").contains("missing")
        .contains("not a folder");

    Run noKey = modserv("serve", "--port", "0", "--model-repository", repo.toString(),
        "--api-key-file", tmp.resolve("nokey").toString());
    assertThat(noKey.status()).isEqualTo(2);
    assertThat(noKey.last()).startsWith("modserv: cannot start: ").contains("nokey")
        .contains("does not exist");

    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Run busy = modserv("serve", "--host", "127.0.0.1", "--port",
          Integer.toString(taken.getLocalPort()), "--model-repository", repo.toString());
      assertThat(busy.status()).isEqualTo(2);
      assertThat(busy.last()).startsWith("modserv: cannot start: ")
          .contains("127.0.0.1:" + taken.getLocalPort());
    }
  }
}
