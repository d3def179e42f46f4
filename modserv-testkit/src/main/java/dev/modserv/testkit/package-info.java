/**
 * Test support for modserv engines and for the server itself.
 *
 * <ul>
 *   <li>{@link dev.modserv.testkit.BackendCompatibilityKit}: an abstract JUnit 5 class that states
 *       what every {@link dev.modserv.spi.Backend} must do. An engine module runs it through a
 *       one-class subclass in its tests.
 *   <li>{@link dev.modserv.testkit.FakeBackend} and its {@link dev.modserv.testkit.FakeModel}: a
 *       deterministic, thread-safe engine with configurable cost and failures that records how it
 *       was used (runs, concurrency, closes), for tests of batching and lifecycles.
 *   <li>{@link dev.modserv.testkit.ModuleServices}: asserts that a module's {@code provides}
 *       clauses and its {@code META-INF/services} files list the same providers.
 * </ul>
 */
@NullMarked
package dev.modserv.testkit;

import org.jspecify.annotations.NullMarked;
