package dev.modserv.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Stops the server on SIGTERM and SIGINT, so the process exits 0 after a clean shutdown. */
final class Signals {
  private static final Logger log = LoggerFactory.getLogger(Signals.class);

  private Signals() {}

  @SuppressWarnings("removal")
  static void onTerminate(Runnable stop) {
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> {
          log.info("SIG{} received", name);
          stop.run();
        });
      } catch (IllegalArgumentException | UnsupportedOperationException e) {
        log.debug("cannot handle SIG{}; the JVM's default applies", name, e);
      }
    }
    // Any other way out (System.exit, a fatal error) still closes the server.
    Runtime.getRuntime().addShutdownHook(new Thread(stop, "modserv-shutdown"));
  }
}
