package dev.modserv.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modserv.core.BatchingPolicy;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Builders;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * The batching contract of DESIGN.md, rule by rule, on a fake clock: random arrival times, row
 * counts, priorities, deadlines, engine times and poisoned batches, against random policies. Each
 * property runs the whole simulation and reports the violations of its rules; a shrunk
 * counterexample names the policy and every arrival.
 */
class BatchingContractProperties {

  /** A policy and a scenario. */
  record Scenario(BatchingPolicy policy, List<BatcherSimulation.Arrival> arrivals,
      long[] engineTimes, boolean drainAtEnd) {
    @Override
    public String toString() {
      return policy + "\n  engine times " + java.util.Arrays.toString(engineTimes)
          + (drainAtEnd ? ", drained" : ", queue failed") + " at the end\n  arrivals " + arrivals;
    }
  }

  @Provide
  Arbitrary<Scenario> scenarios() {
    Arbitrary<Integer> maxBatch = Arbitraries.integers().between(1, 8);
    return maxBatch.flatMap(m -> {
      Arbitrary<BatchingPolicy> policy = Builders.withBuilder(() -> new PolicyDraft(m))
          .use(Arbitraries.integers().between(1, m).set().ofMaxSize(3))
          .in((d, p) -> d.preferred(p))
          .use(Arbitraries.of(0L, 0L, 500L, 2_000L, 10_000L)).in(PolicyDraft::delay)
          .use(Arbitraries.integers().between(1, 12)).in(PolicyDraft::queue)
          .use(Arbitraries.integers().between(1, 3)).in(PolicyDraft::levels)
          .use(Arbitraries.integers().between(1, 2)).in(PolicyDraft::instances)
          .build(PolicyDraft::build);
      Arbitrary<BatcherSimulation.Arrival> arrival = Combinators.combine(
          Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.longs().between(0, 0)),
              Tuple.of(5, Arbitraries.longs().between(1, 3_000))),
          Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.integers().between(1, m)),
              Tuple.of(1, Arbitraries.integers().between(m + 1, m + 2))),
          Arbitraries.integers().between(0, 3),
          Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.longs().between(0, 0)),
              Tuple.of(1, Arbitraries.longs().between(200, 20_000))),
          Arbitraries.frequencyOf(Tuple.of(12, Arbitraries.just(false)),
              Tuple.of(1, Arbitraries.just(true))))
          .as(BatcherSimulation.Arrival::new);
      return Combinators.combine(policy, arrival.list().ofMinSize(1).ofMaxSize(40),
              Arbitraries.longs().between(100, 6_000).array(long[].class).ofMinSize(1)
                  .ofMaxSize(4),
              Arbitraries.of(true, false))
          .as(Scenario::new);
    });
  }

  /** Collects builder settings so that jqwik can shrink them one by one. */
  static final class PolicyDraft {
    final int maxBatch;
    java.util.Set<Integer> preferred = java.util.Set.of();
    long delay;
    int queue = 4;
    int levels = 1;
    int instances = 1;

    PolicyDraft(int maxBatch) {
      this.maxBatch = maxBatch;
    }

    PolicyDraft preferred(java.util.Set<Integer> p) {
      preferred = p;
      return this;
    }

    PolicyDraft delay(long d) {
      delay = d;
      return this;
    }

    PolicyDraft queue(int q) {
      queue = q;
      return this;
    }

    PolicyDraft levels(int l) {
      levels = l;
      return this;
    }

    PolicyDraft instances(int i) {
      instances = i;
      return this;
    }

    BatchingPolicy build() {
      BatchingPolicy.Builder b = BatchingPolicy.builder().maxBatchSize(maxBatch)
          .maxQueueDelay(Duration.ofNanos(delay)).maxQueueSize(queue).priorityLevels(levels)
          .instances(instances);
      if (!preferred.isEmpty()) {
        b.preferredBatchSizes(preferred.stream().mapToInt(Integer::intValue).toArray());
      }
      return b.build();
    }
  }

  private static List<String> simulate(Scenario s) {
    BatcherSimulation sim = new BatcherSimulation(s.policy(), s.engineTimes());
    sim.run(s.arrivals(), s.drainAtEnd());
    return sim.checkOutcomes();
  }

  private static void assertRules(Scenario s, String... rules) {
    List<String> violations = simulate(s).stream()
        .filter(v -> java.util.Arrays.stream(rules).anyMatch(v::startsWith))
        .toList();
    assertThat(violations).as("violations of %s", String.join(", ", rules)).isEmpty();
  }

  @Property(tries = 300)
  void rule1EveryAcceptedRequestCompletesExactlyOnceWithItsOwnRows(@ForAll("scenarios") Scenario s) {
    assertRules(s, "rule 1");
  }

  @Property(tries = 300)
  void rule2BatchesHoldOneToMaxRowsAndOversizedRequestsAreRefused(@ForAll("scenarios") Scenario s) {
    assertRules(s, "rule 2");
  }

  @Property(tries = 300)
  void rule3NoRequestWaitsLongerThanTheDelayOnceAnInstanceIsFree(@ForAll("scenarios") Scenario s) {
    assertRules(s, "rule 3");
  }

  @Property(tries = 300)
  void rule4PreferredAndFullBatchesGoAtOnce(@ForAll("scenarios") Scenario s) {
    assertRules(s, "rule 4");
  }

  @Property(tries = 300)
  void rule5TheQueueIsBoundedAndOverflowIsRefusedAtOnce(@ForAll("scenarios") Scenario s) {
    assertRules(s, "rule 5");
  }

  @Property(tries = 300)
  void rule6ExpiredRequestsNeverRunAndRunningOnesAreAnsweredAtTheirDeadline(@ForAll("scenarios") Scenario s) {
    assertRules(s, "rule 6");
  }

  @Property(tries = 300)
  void rule7AFailedBatchFailsExactlyItsRequests(@ForAll("scenarios") Scenario s) {
    assertRules(s, "rule 7");
  }

  @Property(tries = 300)
  void rule8PriorityThenFifo(@ForAll("scenarios") Scenario s) {
    assertRules(s, "rule 8");
  }

  @Property(tries = 300)
  void rule9NothingStaysPendingAfterClose(@ForAll("scenarios") Scenario s) {
    assertRules(s, "rule 9", "rule 1/9");
  }

  /**
   * Found by {@link #rule4PreferredAndFullBatchesGoAtOnce}: when a queued request timed out, the
   * request left behind made a preferred batch (1 row) but nothing looked at the queue again
   * until the next timer.
   */
  @net.jqwik.api.Example
  void aTimeoutThatLeavesAPreferredBatchDispatchesIt() {
    BatchingPolicy policy = BatchingPolicy.builder().maxBatchSize(8).preferredBatchSizes(1, 4)
        .maxQueueDelay(Duration.ofNanos(500)).maxQueueSize(2).build();
    Scenario s = new Scenario(policy, List.of(
        new BatcherSimulation.Arrival(0, 2, 0, 200, false),
        new BatcherSimulation.Arrival(0, 1, 0, 0, false)), new long[] {100}, true);
    assertThat(simulate(s)).isEmpty();
  }

  @Property(tries = 100)
  void noViolationOfAnyRule(@ForAll("scenarios") Scenario s) {
    assertThat(simulate(s)).isEmpty();
  }
}
