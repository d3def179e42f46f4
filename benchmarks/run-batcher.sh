#!/usr/bin/env bash
# Builds benchmarks/target/benchmarks.jar and runs the dynamic batcher's benchmarks
# (BatcherThroughputBenchmark, BatcherOverheadBenchmark) with settings short enough for a few
# minutes on a 2-core machine, then prints a summary. Results go to benchmarks/results/ (ignored by
# git): JMH's CSV and log per run, the batch-size log, summary.txt and batcher.tsv (the table, for
# docs/charts/batcher_chart.py).
#
#   benchmarks/run-batcher.sh             # build, then run everything (about 5 minutes)
#   SKIP_BUILD=1 benchmarks/run-batcher.sh   # run the jar already built
#   SUMMARY_ONLY=1 benchmarks/run-batcher.sh # print the summary of the last results again
#   JMH_OPTS="-wi 3 -i 5 -w 3s -r 5s -f 2" benchmarks/run-batcher.sh   # longer, steadier
#   JAR=before.jar RESULTS=benchmarks/results/before SKIP_BUILD=1 benchmarks/run-batcher.sh
#                                            # another build (a before/after run), other results
#
# Needs a JDK >= 21 to run the jar: $JAVA, else $JAVA_HOME/bin/java, else the newest JDK under
# /usr/lib/jvm, else java on the PATH. The summary needs awk.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
jar="${JAR:-$here/target/benchmarks.jar}"
results="${RESULTS:-$here/results}"
opts="${JMH_OPTS:--wi 2 -i 3 -w 2s -r 3s -f 1}"

if [[ -z "${SKIP_BUILD:-}" && -z "${SUMMARY_ONLY:-}" ]]; then
  echo "== building $jar"
  (cd "$root" && mvn -B -ntp -q -Pbenchmarks -pl benchmarks -am package -DskipTests)
fi

# shellcheck source=java.sh
source "$here/java.sh"

mkdir -p "$results"
batch_log="$results/batches.tsv"

run() { # name, then JMH arguments
  local name="$1"; shift
  echo "== $name: $* $opts"
  echo "$name start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" >> "$results/runs.txt"
  # shellcheck disable=SC2086
  "$java_bin" -jar "$jar" "$@" $opts \
    -jvmArgsAppend "-Dmodserv.bench.batchLog=$batch_log" \
    -rf csv -rff "$results/$name.csv" > "$results/$name.log" 2>&1 \
    || { tail -40 "$results/$name.log"; echo "JMH run $name failed; see $results/$name.log"; exit 1; }
  echo "$name end   $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" >> "$results/runs.txt"
  sed -n '/^Benchmark  /,/^$/p' "$results/$name.log" | grep -v ':p0.9\{3,\}\|:p0.00\|:p1.00' || true
}

if [[ -z "${SUMMARY_ONLY:-}" ]]; then
  rm -f "$batch_log" "$results"/*.csv "$results"/*.log "$results/summary.txt" "$results/runs.txt"
  run throughput-thrpt 'BatcherThroughputBenchmark' -bm thrpt -tu s
  run throughput-sample 'BatcherThroughputBenchmark' -bm sample -tu us
  run overhead 'BatcherOverheadBenchmark' -bm avgt -tu us
fi

# ---- summary ----
# JMH's CSV with quotes and CRs stripped (no field holds a comma): benchmark, mode, threads,
# samples, score, error, unit, then the parameter. Sample-mode percentiles are rows named
# "package.Class.method:p0.50".
csv() { tr -d '"\r' < "$1"; }
{
  echo "Dynamic batcher, fake engine 200 us/call + 20 us/row, one instance; JMH $opts"
  echo "$(nproc 2>/dev/null || echo '?') CPUs; $("$java_bin" -version 2>&1 | head -1)"
  echo
  printf '%-8s %-10s %12s %10s %10s %11s %12s\n' callers mode 'ops/s' 'p50 us' 'p99 us' \
    'mean batch' 'engine busy'
  awk -v tsv="$results/batcher.tsv" '
    # "dev.x.Class.callers008:p0.50" -> method "callers008", pct "p0.50"
    function split_name(b,   n, p, c) {
      pct = ""; c = index(b, ":")
      if (c) { pct = substr(b, c + 1); b = substr(b, 1, c - 1) }
      n = split(b, p, "."); return p[n]
    }
    function callers(m) { sub(/^callers0*/, "", m); return m }
    FNR == 1 { file++; if (file < 3) next }
    file == 1 { split($0, f, ","); k = callers(split_name(f[1])) " " f[8]; thr[k] = f[5]; keys[k]; next }
    file == 2 {
      split($0, f, ","); k = callers(split_name(f[1])) " " f[8]; keys[k]
      if (pct == "p0.50") p50[k] = f[5]; else if (pct == "p0.99") p99[k] = f[5]
      next
    }
    file == 3 {  # batch log, tab-separated; the throughput runs only
      split($0, f, "\t"); if (f[2] != "thrpt") next
      mode = f[4]; sub(/^mode=/, "", mode); k = callers(split_name(f[1])) " " mode
      batch[k] = f[7]; if (f[8] != "" && f[8] != "NaN") busy[k] = sprintf("%.1f%%", 100 * f[8])
      next
    }
    END {
      n = 0; for (k in keys) order[++n] = k
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
        split(order[i], a, " "); split(order[j], c, " ")
        if (a[1] + 0 > c[1] + 0 || (a[1] + 0 == c[1] + 0 && a[2] > c[2])) {
          t = order[i]; order[i] = order[j]; order[j] = t
        }
      }
      print "callers\tmode\tops_s\tp50_us\tp99_us\tmean_batch\tengine_busy" > tsv
      for (i = 1; i <= n; i++) {
        k = order[i]; split(k, a, " ")
        printf "%-8s %-10s %12.0f %10.1f %10.1f %11s %12s\n", a[1], a[2], thr[k], p50[k], p99[k], \
          (k in batch ? batch[k] : "-"), (k in busy ? busy[k] : "-")
        printf "%s\t%s\t%.0f\t%.1f\t%.1f\t%s\t%s\n", a[1], a[2], thr[k], p50[k], p99[k], \
          (k in batch ? batch[k] : ""), (k in busy ? busy[k] : "") > tsv
      }
    }
  ' <(csv "$results/throughput-thrpt.csv") <(csv "$results/throughput-sample.csv") "$batch_log"
  echo
  echo "Overhead per request at concurrency 1, zero-cost engine (avgt, us/op +- 99.9% CI):"
  awk -F',' '
    function method(b,   n, p) { n = split(b, p, "."); return p[n] }
    NR > 1 {
      name = method($1) ($8 == "" ? "" : " (" $8 ")")
      names[++n] = name; score[name] = $5; err[name] = $6
      if (method($1) == "direct") direct = $5
    }
    END {
      for (i = 1; i <= n; i++) printf "  %-26s %9.3f +- %.3f\n", names[i], score[names[i]], err[names[i]]
      for (i = 1; i <= n; i++) if (names[i] != "direct")
        printf "  overhead of %-14s %9.3f us (%s - direct)\n", names[i], score[names[i]] - direct, names[i]
    }
  ' <(csv "$results/overhead.csv")
  echo
  echo "Runs (UTC, load averages):"
  sed 's/^/  /' "$results/runs.txt" 2>/dev/null || true
  echo
  echo "Full JMH output: $results/*.log; CSV: $results/*.csv; batch sizes: $batch_log"
} | tee "$results/summary.txt"
