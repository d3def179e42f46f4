/**
 * modserv's REST adapter: {@link dev.modserv.http.HttpAdapter} serves a {@link
 * dev.modserv.core.ModelServer} over HTTP (native, Open Inference Protocol v2, management and
 * operations endpoints) on Jetty 12.1 core handlers, over TCP and optionally a Unix domain socket.
 */
@org.jspecify.annotations.NullMarked
module dev.modserv.http {
  requires transitive dev.modserv.core;
  requires transitive org.eclipse.jetty.server;
  requires transitive micrometer.registry.prometheus;
  requires org.eclipse.jetty.unixdomain.server;
  requires com.fasterxml.jackson.databind;
  requires java.management;
  requires jdk.management;
  requires org.slf4j;
  requires static micrometer.tracing;
  requires static org.jspecify;
  requires static com.google.errorprone.annotations;

  exports dev.modserv.http;
}
