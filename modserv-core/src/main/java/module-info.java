/**
 * modserv's server: {@link dev.modserv.core.ModelServer}, the versioned model registry with
 * in-flight leases, input validation, metrics and engine discovery.
 */
@org.jspecify.annotations.NullMarked
module dev.modserv.core {
  requires transitive dev.modserv.api;
  requires transitive micrometer.core;
  requires transitive micrometer.observation;
  requires org.slf4j;
  requires com.github.benmanes.caffeine;
  requires static org.jspecify;
  requires static com.google.errorprone.annotations;

  exports dev.modserv.core;

  uses dev.modserv.spi.BackendProvider;
}
