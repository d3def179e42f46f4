package dev.modserv.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ServeCommandTest {

  private static ServeOptions parse(Map<String, String> env, String... args) {
    ServeCommand cmd = new ServeCommand(s -> { });
    ServeCommand.commandLine(cmd, env).parseArgs(args);
    return cmd.options(env);
  }

  @Test
  void defaultsListenOnEveryInterfaceOnTheOllamaPort() {
    ServeOptions o = parse(Map.of("XDG_CACHE_HOME", "/c"));
    assertThat(o.host()).isEqualTo("0.0.0.0");
    assertThat(o.port()).isEqualTo(11434);
    assertThat(o.repository()).isNull();
    assertThat(o.pollInterval()).isZero();
    assertThat(o.cacheDir()).isEqualTo(Path.of("/c", "modserv"));
    assertThat(o.gracePeriod()).isEqualTo(Duration.ofSeconds(30));
    assertThat(o.progressThreshold()).isEqualTo(64L << 20);
    assertThat(o.selectorSpin()).isEqualTo(Duration.ofNanos(50_000));
    assertThat(o.selectors()).as("the adapter's default").isZero();
  }

  @Test
  void aSelectorCountOutOfRangeIsRefusedNamingTheOption() {
    for (String bad : List.of("0", "-2", "65", "many", "99999999999")) {
      ServeCommand cmd = new ServeCommand(s -> { });
      assertThatThrownBy(() -> {
        ServeCommand.commandLine(cmd, Map.of()).parseArgs("--selectors", bad);
        cmd.options(Map.of());
      }).as(bad).isInstanceOf(CommandLine.ParameterException.class)
          .hasMessageContaining("--selectors");
    }
    assertThat(parse(Map.of(), "--selectors", "64").selectors()).isEqualTo(64);
  }

  @Test
  void aSelectorSpinOutOfRangeIsRefusedNamingTheOption() {
    for (String bad : List.of("-1us", "11ms", "soon")) {
      ServeCommand cmd = new ServeCommand(s -> { });
      assertThatThrownBy(() -> {
        ServeCommand.commandLine(cmd, Map.of()).parseArgs("--selector-spin", bad);
        cmd.options(Map.of());
      }).as(bad).isInstanceOf(CommandLine.ParameterException.class)
          .hasMessageContaining("--selector-spin");
    }
  }

  @Test
  void everyOptionComesFromItsEnvironmentVariableAndTheCommandLineWins() {
    Map<String, String> env = Map.ofEntries(
        Map.entry("MODSERV_MODEL_REPOSITORY", "/models"),
        Map.entry("MODSERV_HOST", "127.0.0.1"),
        Map.entry("MODSERV_PORT", "8080"),
        Map.entry("MODSERV_SOCKET", "/run/modserv.sock"),
        Map.entry("MODSERV_API_KEY_FILE", "/secrets/key"),
        Map.entry("MODSERV_POLL_INTERVAL", "5s"),
        Map.entry("MODSERV_CACHE_DIR", "/cache"),
        Map.entry("MODSERV_PROGRESS_THRESHOLD", "1GiB"),
        Map.entry("MODSERV_MAX_LOADED_MEMORY", "8GiB"),
        Map.entry("MODSERV_GRACE_PERIOD", "10s"),
        Map.entry("MODSERV_SELECTOR_SPIN", "200us"),
        Map.entry("MODSERV_SELECTORS", "4"),
        Map.entry("MODSERV_REQUEST_TIMEOUT", "2s"),
        Map.entry("MODSERV_MAX_BODY_SIZE", "1MiB"),
        Map.entry("MODSERV_CORS_ORIGINS", "https://a.example,https://b.example"));
    ServeOptions o = parse(env);
    assertThat(o.repository()).isEqualTo(Path.of("/models"));
    assertThat(o.host()).isEqualTo("127.0.0.1");
    assertThat(o.port()).isEqualTo(8080);
    assertThat(o.socket()).isEqualTo(Path.of("/run/modserv.sock"));
    assertThat(o.apiKeyFile()).isEqualTo(Path.of("/secrets/key"));
    assertThat(o.pollInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(o.cacheDir()).isEqualTo(Path.of("/cache"));
    assertThat(o.progressThreshold()).isEqualTo(1L << 30);
    assertThat(o.maxLoadedBytes()).isEqualTo(8L << 30);
    assertThat(o.gracePeriod()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.selectorSpin()).isEqualTo(Duration.ofNanos(200_000));
    assertThat(o.selectors()).isEqualTo(4);
    assertThat(o.requestTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(o.maxBodyBytes()).isEqualTo(1L << 20);
    assertThat(o.corsOrigins()).containsExactly("https://a.example", "https://b.example");

    ServeOptions cli = parse(env, "--port", "9000", "--poll-interval", "250ms");
    assertThat(cli.port()).isEqualTo(9000);
    assertThat(cli.pollInterval()).isEqualTo(Duration.ofMillis(250));
    assertThat(cli.host()).isEqualTo("127.0.0.1");
  }

  @Test
  void strictReadinessIsOnUnlessTurnedOff() {
    assertThat(parse(Map.of()).strictReadiness()).isTrue();
    assertThat(parse(Map.of(), "--strict-readiness").strictReadiness()).isTrue();
    assertThat(parse(Map.of(), "--no-strict-readiness").strictReadiness()).isFalse();
    assertThat(parse(Map.of(), "--strict-readiness=false").strictReadiness()).isFalse();
    assertThat(parse(Map.of("MODSERV_STRICT_READINESS", "false")).strictReadiness()).isFalse();
  }

  @Test
  void envNamesFollowTheOptionNames() {
    assertThat(ServeCommand.envName("--api-key-file")).isEqualTo("MODSERV_API_KEY_FILE");
  }
}
