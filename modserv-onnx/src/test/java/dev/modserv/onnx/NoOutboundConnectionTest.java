package dev.modserv.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tokenizer library phones home by default (engines.md: four connects to the cloud metadata
 * address per load): loading and running an embedding model must not make the JVM connect to any
 * network address, nor write under the user's home. Runs in a fresh JVM under strace, which lists
 * every {@code connect} system call; the probe also refuses any HTTP connection in Java, so that
 * nothing leaves the machine even if this fails.
 */
class NoOutboundConnectionTest {

  @Test
  void loadingAndRunningAnEmbeddingModelConnectsNowhere(@TempDir Path home) throws Exception {
    Path strace = Path.of("/usr/bin/strace");
    Assumptions.assumeTrue(Files.isExecutable(strace),
        "needs strace (Debian package strace) to see the JVM's connect calls");
    Path trace = home.resolve("connects.txt");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p = new ProcessBuilder(strace.toString(), "-f", "-qq", "-e", "trace=connect",
        "-o", trace.toString(), java.toString(), "--enable-native-access=ALL-UNNAMED",
        "-Duser.home=" + home, "-cp", System.getProperty("java.class.path"),
        OfflineProbe.class.getName(), TestModels.MINILM_JAR.toAbsolutePath().toString())
        .redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    Assumptions.assumeFalse(output.contains("ptrace") && p.exitValue() != 0,
        "strace cannot trace here (ptrace not permitted): " + output);
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).contains("EMBEDDED 384").contains("ASKED []");
    List<String> connects = Files.readAllLines(trace).stream()
        .filter(line -> line.contains("connect(") && line.contains("AF_INET"))
        .filter(line -> !line.contains("127.0.0.1") && !line.contains("::1"))
        .toList();
    assertThat(connects).as("network connects by the JVM").isEmpty();
    assertThat(filesUnder(home).stream().filter(f -> !f.equals(trace)).toList())
        .as("files written under user.home").isEmpty();
  }

  private static List<Path> filesUnder(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).toList();
    }
  }
}
