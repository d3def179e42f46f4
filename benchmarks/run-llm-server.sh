#!/usr/bin/env bash
# Builds the server and benchmarks/target/benchmarks.jar, then runs LlmServerBench: the real server
# started through ./modserv serve on the generated 384-wide GGUF (parallel 4, queue bound 50),
# driven by 1, 4, 16 and 60 closed-loop streaming chat clients (engine threads 1), with in-process
# generate side by side at 1 client, then a burst of 100 requests. Loopback only. Writes
# benchmarks/results/llm-server.tsv and .log (ignored by git); docs/charts/llm-server.tsv is the
# committed copy that docs/performance.md quotes (copy it there by hand, then run
# docs/charts/llm_server_chart.py).
#
#   benchmarks/run-llm-server.sh                 # build, then run (a few minutes)
#   SKIP_BUILD=1 benchmarks/run-llm-server.sh    # run what is built
#   LLM_OPTS="64 3000 2" benchmarks/run-llm-server.sh   # tokens per request, short warm-ups,
#                                                       # engine threads (alike on both sides)
#
# Run it on a quiet machine: the clients, the server and the engine's worker share its cores.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
jar="$here/target/benchmarks.jar"
results="$here/results"
opts="${LLM_OPTS:-64 3000 1}"

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "== building the server and $jar"
  (cd "$root" && mvn -B -ntp -q -Pbenchmarks -pl benchmarks,modserv-server -am package \
    -Dmaven.test.skip=true)
  touch "$root/modserv-server/target/.modserv-built"   # the launcher need not build again
fi
# shellcheck source=java.sh
source "$here/java.sh"

mkdir -p "$results"
{
  echo "== LlmServerBench $opts (commit $(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo "   start $(date -u +%FT%TZ), $(nproc 2>/dev/null || echo '?') CPUs, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
} | tee "$results/llm-server.log"
# shellcheck disable=SC2086
MODSERV_NO_BUILD=1 "$java_bin" --enable-native-access=ALL-UNNAMED -cp "$jar" \
  dev.modserv.benchmarks.LlmServerBench "$root/modserv" "$results/llm-server.tsv" $opts \
  2>"$results/llm-server.err" | tee -a "$results/llm-server.log"
echo "   end $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" | tee -a "$results/llm-server.log"
