package dev.modserv.server;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops the server on SIGTERM and SIGINT, so that the process exits 0 after a clean shutdown
 * (with only a shutdown hook, the JVM would exit 143 after SIGTERM). {@code sun.misc.Signal} is
 * reached by reflection: it is in {@code jdk.unsupported}, present in every JDK modserv runs on,
 * and where it is missing the shutdown hook alone still closes the server.
 */
final class Signals {
  private static final Logger log = LoggerFactory.getLogger(Signals.class);

  private Signals() {}

  @SuppressWarnings("ReferenceEquality") // a proxy equals only itself
  static void onTerminate(Runnable stop) {
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        Class<?> signal = Class.forName("sun.misc.Signal");
        Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
        Object handler = Proxy.newProxyInstance(Signals.class.getClassLoader(),
            new Class<?>[] {handlerType}, (proxy, method, args) -> switch (method.getName()) {
              case "handle" -> {
                log.info("SIG{} received", name);
                stop.run();
                yield null;
              }
              case "hashCode" -> System.identityHashCode(proxy);
              case "equals" -> proxy == args[0];
              default -> "SignalHandler[" + name + "]";
            });
        Method handle = signal.getMethod("handle", signal, handlerType);
        handle.invoke(null, signal.getConstructor(String.class).newInstance(name), handler);
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        log.debug("cannot handle SIG{}; the JVM's default applies", name, e);
      }
    }
    // Any other way out (System.exit, a fatal error) still closes the server.
    Runtime.getRuntime().addShutdownHook(new Thread(stop, "modserv-shutdown"));
  }
}
