#!/usr/bin/env bash
# Runs issue 17's measurements on a machine with no JDK and no network (the 16-core machine), from
# what benchmarks/device-pack.sh put in .device/: HttpPredictBench at 1, 16 and 64 connections
# (the adapter and the bare Jetty handler, TCP and Unix socket, OIP v2), then the adapter again with
# a selector per core at 16 and 64 connections, then the batcher's benchmarks, then a CPU profile
# of the adapter over TCP at 16 connections (async-profiler, when device-pack.sh packed it). Run
# from the repository root; results go to $OUT, else benchmarks/results/device: machine.txt,
# http.tsv, http.log, http-selectors.tsv, http-selectors.log, batcher.txt, profile.log and
# profile.collapsed.gz (at most eight files come back).
#
#   bash benchmarks/run-device.sh                        # ~8.5 min on 16 cores (run with timeout_s 580)
#   HTTP_OPTS="--warmup 1 --measure 2 --rounds 1 --connections 1,16" bash benchmarks/run-device.sh
#   SKIP_SELECTORS=1 SKIP_BATCHER=1 SKIP_PROFILE=1 bash benchmarks/run-device.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
bundle="$root/.device"
out="${OUT:-$here/results/device}"
http_opts="${HTTP_OPTS:---warmup 2 --measure 4 --rounds 3 --connections 1,16,64}"
[[ -f "$bundle/jrt.tgz" && -f "$bundle/benchmarks.jar" ]] \
  || { echo "no $bundle: run benchmarks/device-pack.sh here first and carry .device" >&2; exit 1; }

runtime="$(mktemp -d)"
tar xzf "$bundle/jrt.tgz" -C "$runtime"
java="$runtime/jrt/bin/java"
mkdir -p "$out"

{
  echo "commit $(cat "$bundle/commit.txt" 2>/dev/null || echo '?'), $(date -u +%FT%TZ)"
  echo "$(nproc) CPUs; $(uname -sr)"
  grep -m1 'model name' /proc/cpuinfo || true
  free -g | head -2 || true
  nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"
  "$java" -version 2>&1 | head -1
  echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"
cat "$out/machine.txt"

cd "$root"   # the model's path is relative to the repository root
echo "== HttpPredictBench $http_opts"
# shellcheck disable=SC2086
"$java" --enable-native-access=ALL-UNNAMED -cp "$bundle/benchmarks.jar" \
  dev.modserv.benchmarks.HttpPredictBench $http_opts --out "$out/http.tsv" 2>&1 | tee "$out/http.log"

if [[ -z "${SKIP_SELECTORS:-}" ]]; then
  # The adapter with a selector per core (the default is one for every two), beside the bare handler.
  echo "== HttpPredictBench, a selector per core"
  # shellcheck disable=SC2086
  "$java" --enable-native-access=ALL-UNNAMED -cp "$bundle/benchmarks.jar" \
    dev.modserv.benchmarks.HttpPredictBench ${SELECTOR_OPTS:---warmup 2 --measure 4 --rounds 2 --connections 16,64} \
    --targets ADAPTER_TCP,ADAPTER_UDS,BARE_TCP,BARE_UDS --selectors "$(( $(nproc) > 64 ? 64 : $(nproc) ))" \
    --out "$out/http-selectors.tsv" 2>&1 | tee "$out/http-selectors.log"
fi

if [[ -z "${SKIP_BATCHER:-}" ]]; then
  echo "== batcher"
  batcher="$(mktemp -d)"
  JAVA="$java" JAR="$bundle/benchmarks.jar" RESULTS="$batcher" SKIP_BUILD=1 \
    JMH_OPTS="${JMH_OPTS:--wi 1 -i 1 -w 2s -r 3s -f 1}" bash "$here/run-batcher.sh" \
    > "$batcher/run.log" 2>&1 || { tail -20 "$batcher/run.log"; echo "batcher run failed"; }
  cat "$batcher/summary.txt" > "$out/batcher.txt" 2>/dev/null || tail -40 "$batcher/run.log" > "$out/batcher.txt"
  cat "$out/batcher.txt"
fi
if [[ -z "${SKIP_PROFILE:-}" && -f "$bundle/libasyncProfiler.so" && -x "$bundle/jattach" ]]; then
  # CPU samples of every thread for 3 s of the measured part, in async-profiler's collapsed
  # stacks, each starting with its thread's name: from perf events, or where they are closed from
  # a per-thread CPU timer (ctimer, without kernel frames).
  echo "== profile: the adapter over TCP at 16 connections"
  : > "$out/profile.log"   # appended to by the run and by jattach alike
  "$java" --enable-native-access=ALL-UNNAMED -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
    -cp "$bundle/benchmarks.jar" dev.modserv.benchmarks.HttpPredictBench \
    --warmup 10 --measure 8 --rounds 1 --connections 16 --targets ADAPTER_TCP >> "$out/profile.log" 2>&1 &
  bench=$!
  sleep "${PROFILE_AFTER:-14}"
  # jattach exits non-zero when the agent refuses to start.
  "$bundle/jattach" "$bench" load "$bundle/libasyncProfiler.so" true \
    "start,event=cpu,interval=200us,threads" >> "$out/profile.log" 2>&1 \
    || "$bundle/jattach" "$bench" load "$bundle/libasyncProfiler.so" true \
      "start,event=ctimer,interval=200us,threads" >> "$out/profile.log" 2>&1 || true
  sleep 3
  "$bundle/jattach" "$bench" load "$bundle/libasyncProfiler.so" true \
    "stop,collapsed,file=$out/profile.collapsed" >> "$out/profile.log" 2>&1 || true
  wait "$bench" || echo "the profiled run failed: see profile.log"
  [[ -f "$out/profile.collapsed" ]] && gzip -f "$out/profile.collapsed"
  tail -12 "$out/profile.log"
fi
echo "== results in $out"
