package dev.modserv.benchmarks;

import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * When the slow requests of {@link HttpPredictBench}'s closed loop happen: N connections to one
 * target for 5 s after a 12 s warm-up, then the requests slower than a threshold grouped by the
 * time they ended (a group is slow requests that ended within 1 ms of the previous one). Stalls
 * that hold every connection at once (a safepoint, a thread that the operating system took off
 * its core) show as groups with most of the connections in them; one slow connection shows as
 * groups of one.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *     dev.modserv.benchmarks.HttpStallProbe ADAPTER_TCP [connections=16] [slow-ms=2]
 * </pre>
 */
public final class HttpStallProbe {
  private static final long WARMUP_NANOS = 12_000_000_000L;
  private static final long MEASURE_NANOS = 5_000_000_000L;
  /** Per connection: latencies are kept in arrays allocated once, before the warm-up. */
  private static final int MAX_SAMPLES = 1 << 20;
  private static final int GROUPS_SHOWN = Integer.getInteger("groups", 20);

  private HttpStallProbe() {}

  public static void main(String[] args) throws Exception {
    HttpPredictBench.Target target = HttpPredictBench.Target.valueOf(args[0]);
    int connections = args.length > 1 ? Integer.parseInt(args[1]) : 16;
    double slowMillis = args.length > 2 ? Double.parseDouble(args[2]) : 2;
    try (HttpPredictBench.Servers servers = new HttpPredictBench.Servers()) {
      SocketAddress address = servers.address(target);
      long[][] ends = new long[connections][MAX_SAMPLES];
      long[][] latencies = new long[connections][MAX_SAMPLES];
      int[] counts = new int[connections];
      long now = System.nanoTime();
      long measureStart = now + WARMUP_NANOS;
      // So that the groups' times can be matched with -Xlog's (JVM uptime) lines.
      double uptimeAtStart = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime()
          / 1e3 + WARMUP_NANOS / 1e9;
      long stop = measureStart + MEASURE_NANOS;
      List<Thread> threads = new ArrayList<>();
      for (int c = 0; c < connections; c++) {
        int id = c;
        Thread t = new Thread(() -> {
          try (HttpPredictBench.Conn conn = new HttpPredictBench.Conn(address, target.path,
              target.body)) {
            for (long t0; (t0 = System.nanoTime()) < stop; ) {
              conn.call(false);
              long t1 = System.nanoTime();
              if (t0 >= measureStart && counts[id] < MAX_SAMPLES) {
                ends[id][counts[id]] = t1 - measureStart;
                latencies[id][counts[id]++] = t1 - t0;
              }
            }
          } catch (Exception e) {
            throw new IllegalStateException("connection " + id + " failed", e);
          }
        }, "client-" + c);
        t.start();
        threads.add(t);
      }
      for (Thread t : threads) {
        t.join();
      }
      int total = Arrays.stream(counts).sum();
      long[] all = new long[total];
      List<long[]> slow = new ArrayList<>();
      int k = 0;
      for (int c = 0; c < connections; c++) {
        for (int i = 0; i < counts[c]; i++) {
          all[k++] = latencies[c][i];
          if (latencies[c][i] > slowMillis * 1e6) {
            slow.add(new long[] {ends[c][i], latencies[c][i], c});
          }
        }
      }
      Arrays.sort(all);
      System.out.printf(Locale.ROOT, "%s, %d connections: %d requests in %.0f s, %.0f req/s, p50"
              + " %.1f us, p99 %.1f us, p99.9 %.1f us; requests per connection %d to %d%n",
          target, connections, total, MEASURE_NANOS / 1e9, total / (MEASURE_NANOS / 1e9),
          all[total / 2] / 1e3, all[(int) (total * 0.99)] / 1e3, all[(int) (total * 0.999)] / 1e3,
          Arrays.stream(counts).min().orElse(0), Arrays.stream(counts).max().orElse(0));
      slow.sort(Comparator.comparingLong(s -> s[0]));
      List<List<long[]>> groups = new ArrayList<>();
      long previousEnd = Long.MIN_VALUE / 2;
      for (long[] s : slow) {
        if (s[0] - previousEnd > 1_000_000) {
          groups.add(new ArrayList<>());
        }
        groups.get(groups.size() - 1).add(s);
        previousEnd = s[0];
      }
      long wide = groups.stream().filter(g -> g.stream().mapToLong(s -> s[2]).distinct().count()
          >= connections / 2).count();
      System.out.printf(Locale.ROOT, "slower than %.1f ms: %d requests (%.2f%%) in %d groups, %d"
              + " of them holding at least half of the connections; times below from JVM uptime"
              + " %.3f s%n", slowMillis, slow.size(), 100.0 * slow.size() / total, groups.size(),
          wide, uptimeAtStart);
      for (List<long[]> g : groups.subList(0, Math.min(GROUPS_SHOWN, groups.size()))) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  at %.1f ms:",
            g.get(0)[0] / 1e6));
        for (long[] s : g) {
          line.append(String.format(Locale.ROOT, " c%d %.1f", s[2], s[1] / 1e6));
        }
        System.out.println(line);
      }
    }
    System.exit(0);
  }
}
