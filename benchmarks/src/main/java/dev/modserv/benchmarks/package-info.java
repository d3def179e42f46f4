/**
 * JMH benchmarks of modserv, run from {@code benchmarks/target/benchmarks.jar} (see {@code
 * benchmarks/run-batcher.sh} and {@code docs/performance.md}); never part of the build's tests.
 *
 * <ul>
 *   <li>{@link dev.modserv.benchmarks.BatcherThroughputBenchmark}: throughput and latency of
 *       single-row callers through the dynamic batcher, batched and unbatched, against a fake
 *       engine that costs a fixed time per call plus a time per row;
 *   <li>{@link dev.modserv.benchmarks.BatcherOverheadBenchmark}: what the server and its batcher
 *       add to one call at concurrency 1, against a fake engine that costs nothing.
 * </ul>
 */
@NullMarked
package dev.modserv.benchmarks;

import org.jspecify.annotations.NullMarked;
