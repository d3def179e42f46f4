#!/usr/bin/env bash
# Builds benchmarks/target/benchmarks.jar and runs HttpPredictBench: POST /api/predict on the tiny
# ONNX MLP through the REST adapter (HttpAdapter) over TCP and over a Unix domain socket, and POST
# /v2/models/mlp/infer (Open Inference Protocol v2) over TCP, side by side with a bare Jetty core
# handler that parses the same JSON and answers a constant, at 1, 16 and 64 connections; the log
# ends with the adapter-against-bare lines of issue 17. Loopback only. Results go to
# benchmarks/results/ (ignored by git): http.tsv and http.log.
#
#   benchmarks/run-http.sh                     # build, then run (3 rounds of 15 configurations x 9 s, ~7.5 min)
#   SKIP_BUILD=1 benchmarks/run-http.sh        # run the jar already built
#   HTTP_OPTS="--warmup 10 --measure 30 --rounds 5 --connections 1,16,64" benchmarks/run-http.sh
#   HTTP_OPTS="--warmup 5 --measure 8 --connections 1,16,64 --client-wait poll" benchmarks/run-http.sh
#                                              # clients wait in epoll, not a blocking read (the
#                                              # log's first line says which; http.tsv is overwritten)
#
# Needs a JDK >= 21 to run the jar: $JAVA, else $JAVA_HOME/bin/java, else the newest JDK under
# /usr/lib/jvm, else java on the PATH. Run it on a quiet machine: the client and the servers share
# its cores.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
jar="$here/target/benchmarks.jar"
results="$here/results"
opts="${HTTP_OPTS:---warmup 5 --measure 8 --connections 1,16,64}"

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "== building $jar"
  (cd "$root" && mvn -B -ntp -q -Pbenchmarks -pl benchmarks -am package -DskipTests)
fi

# shellcheck source=java.sh
source "$here/java.sh"

mkdir -p "$results"
echo "== HttpPredictBench $opts (commit $(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "   start $(date -u +%FT%TZ), $(nproc 2>/dev/null || echo '?') CPUs, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
# The model path is relative to the repository root.
cd "$root"
# shellcheck disable=SC2086
"$java_bin" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.modserv.benchmarks.HttpPredictBench $opts --out "$results/http.tsv" \
  2>&1 | tee "$results/http.log"
echo "   end $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" | tee -a "$results/http.log"
echo "== results: $results/http.tsv, $results/http.log"
