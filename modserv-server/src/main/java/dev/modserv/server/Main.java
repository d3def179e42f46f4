package dev.modserv.server;

import dev.modserv.server.internal.Logging;
import dev.modserv.server.internal.ServeCommand;
import dev.modserv.server.internal.StandaloneServer;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code modserv} command: {@code modserv serve [options]}; {@code modserv serve --help} lists
 * the options and their environment variables.
 *
 * <p>SIGTERM (and Ctrl-C) stop the server cleanly: readiness turns 503, requests in flight finish
 * within the grace period, the models unload, and the process exits with status 0 (1 when the
 * grace period ran out and requests were cut). A start that fails exits with status 2 after one
 * line on stderr.
 */
@Command(name = "modserv", mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "modserv: serves machine-learning models over HTTP.")
public final class Main implements Runnable {

  @CommandLine.Spec
  @SuppressWarnings("NullAway.Init") // injected by picocli before run()
  CommandLine.Model.CommandSpec spec;

  private Main() {}

  /** Runs the command line; exits with its status. */
  public static void main(String[] args) {
    Map<String, String> env = System.getenv();
    String level = option(args, env, "--log-level", "info");
    String access = option(args, env, "--access-log", "false");
    try {
      Logging.configure(level, Logging.Format.parse(option(args, env, "--log-format", "text")),
          !java.util.Arrays.asList(args).contains("--no-access-log")
              && (access.isEmpty() || Boolean.parseBoolean(access)));
    } catch (IllegalArgumentException e) {
      System.err.println("modserv: cannot start: " + e.getMessage());
      System.exit(ServeCommand.STARTUP_FAILED);
    } catch (LinkageError noLogback) {
      // Run with another SLF4J backend (tests that embed the server with slf4j-simple).
      if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
      }
    }
    Lifecycle lifecycle = new Lifecycle();
    ServeCommand serve = new ServeCommand(lifecycle::started);
    serve.beforeStart(() -> Signals.onTerminate(lifecycle::stop));
    CommandLine cl = new CommandLine(new Main());
    cl.addSubcommand("serve", ServeCommand.commandLine(serve, env));
    // A bad option is one line naming it, exit status 2, not the whole usage.
    cl.setParameterExceptionHandler((e, given) -> {
      System.err.println("modserv: " + ServeCommand.oneLine(e)
          + " (modserv serve --help lists the options)");
      return ServeCommand.STARTUP_FAILED;
    });
    int status = cl.execute(args);
    lifecycle.ended();
    System.exit(status);
  }

  /**
   * Reads a logging option before picocli does (logging is set up before anything logs): its
   * value, "" for a flag given with none, else its environment variable, else {@code otherwise}.
   */
  private static String option(String[] args, Map<String, String> env, String name,
      String otherwise) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals(name)) {
        return i + 1 < args.length && !args[i + 1].startsWith("-") ? args[i + 1] : "";
      }
      if (args[i].startsWith(name + "=")) {
        return args[i].substring(name.length() + 1);
      }
    }
    String fromEnv = env.get(ServeCommand.envName(name));
    return fromEnv == null || fromEnv.isBlank() ? otherwise : fromEnv;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /**
   * Stops the server once it has started: a signal that comes while the models are still loading
   * is kept, and the server stops as soon as the start ends; a second one exits at once.
   */
  static final class Lifecycle {
    // Created after main() has set the log level.
    private static final Logger log = LoggerFactory.getLogger(Main.class);
    private volatile @Nullable StandaloneServer server;
    private volatile boolean stopRequested;
    private volatile boolean ended;

    /** The command returned: a start that failed leaves nothing to stop. */
    void ended() {
      ended = true;
    }

    void started(StandaloneServer s) {
      server = s;
      if (stopRequested) {
        s.close();
      }
    }

    void stop() {
      StandaloneServer s = server;
      if (s == null && ended) {
        return;
      }
      if (s == null && stopRequested) {
        log.warn("stopping at once, while still starting");
        Runtime.getRuntime().halt(1);
      }
      stopRequested = true;
      s = server;
      if (s != null) {
        s.close();
      } else {
        log.info("stopping once the start has ended (models are still loading); signal again to"
            + " stop at once");
      }
    }
  }

  /** Reads the version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"modserv " + (v == null ? "(development build)" : v)};
    }
  }
}
