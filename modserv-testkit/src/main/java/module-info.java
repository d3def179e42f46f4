/**
 * modserv's testkit: the conformance kit every engine runs ({@link
 * dev.modserv.testkit.BackendCompatibilityKit}), a fake engine for tests of the server ({@link
 * dev.modserv.testkit.FakeBackend}) and a check that {@code module-info} and {@code
 * META-INF/services} agree ({@link dev.modserv.testkit.ModuleServices}). Depends on modserv-api and
 * the JUnit Jupiter API only.
 */
@org.jspecify.annotations.NullMarked
module dev.modserv.testkit {
  requires transitive dev.modserv.api;
  requires transitive org.junit.jupiter.api;
  requires static org.jspecify;

  exports dev.modserv.testkit;

  provides dev.modserv.spi.BackendProvider with dev.modserv.testkit.FakeBackendProvider;
}
