#!/usr/bin/env bash
# Builds benchmarks/target/benchmarks.jar and runs LlmHttpBench: streaming generation through
# POST /v1/chat/completions (SSE; a raw socket client and the JDK's HttpClient) side by side with
# ModelServer.generate in process, on a generated GGUF, for 1 and 4 concurrent clients. Loopback
# only. The output goes to benchmarks/results/llm-http.log (ignored by git).
#
#   benchmarks/run-llm-http.sh                  # build, then run (about 5 minutes)
#   SKIP_BUILD=1 benchmarks/run-llm-http.sh     # run the jar already built
#   LLM_OPTS="60 64 3000" benchmarks/run-llm-http.sh   # rounds, tokens, warm-up generations
#   LLM_OPTS="150 64 3000 4" benchmarks/run-llm-http.sh # 4 clients only (then: client counts)
#
# Run it on a quiet machine: the client, the server and the engine's worker share its cores.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
jar="$here/target/benchmarks.jar"
results="$here/results"
opts="${LLM_OPTS:-40 64 3000}"

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "== building $jar"
  (cd "$root" && mvn -B -ntp -q -Pbenchmarks -pl benchmarks -am package -DskipTests)
fi
# shellcheck source=java.sh
source "$here/java.sh"

mkdir -p "$results"
echo "== LlmHttpBench $opts (commit $(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "   start $(date -u +%FT%TZ), $(nproc 2>/dev/null || echo '?') CPUs, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
# shellcheck disable=SC2086
"$java_bin" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.modserv.benchmarks.LlmHttpBench $opts \
  2>"$results/llm-http.err" | tee "$results/llm-http.log"
echo "   end $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" | tee -a "$results/llm-http.log"
