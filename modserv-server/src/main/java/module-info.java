/**
 * modserv's standalone server: {@code modserv serve} ({@link dev.modserv.server.Main}) serves a
 * model repository folder, or a default embedding model, through the REST adapter (and the gRPC
 * adapter when asked for). It is run from
 * the class path (the runnable jar); the descriptor states what it reads.
 */
@org.jspecify.annotations.NullMarked
module dev.modserv.server {
  requires dev.modserv.http;
  requires dev.modserv.grpc;
  requires dev.modserv.core;
  requires dev.modserv.onnx;
  requires info.picocli;
  requires com.fasterxml.jackson.databind;
  requires com.fasterxml.jackson.dataformat.yaml;
  requires org.slf4j;
  requires ch.qos.logback.classic;
  requires ch.qos.logback.core;
  requires micrometer.tracing;
  requires micrometer.tracing.bridge.otel;
  requires io.opentelemetry.api;
  requires io.opentelemetry.context;
  requires io.opentelemetry.sdk;
  requires io.opentelemetry.sdk.common;
  requires io.opentelemetry.sdk.trace;
  requires io.opentelemetry.exporter.otlp;
  requires static org.jspecify;

  exports dev.modserv.server;

  // picocli reads and sets the commands' annotated fields.
  opens dev.modserv.server to info.picocli;
  opens dev.modserv.server.internal to info.picocli;
}
