#!/usr/bin/env bash
# Builds benchmarks/target/benchmarks.jar and runs GrpcSideBySide: the Open Inference Protocol v2
# on one ModelServer over gRPC (TCP and a Unix domain socket), HTTP/JSON and HTTP with the binary
# tensor extension, side by side in one run: the tiny ONNX MLP at 1 and 16 concurrent callers, and
# all-MiniLM-L6-v2 with 32 texts per call. Loopback only. Results go to benchmarks/results/
# (ignored by git): grpc.tsv and grpc.log.
#
#   benchmarks/run-grpc.sh                     # build, then run (13 configurations x ~11 s)
#   SKIP_BUILD=1 benchmarks/run-grpc.sh        # run the jar already built
#   GRPC_OPTS="--warmup 5 --measure 20" benchmarks/run-grpc.sh
#
# Needs a JDK >= 21 (see java.sh). The MiniLM comes from modserv-onnx/target/minilm-jar, which the
# modserv-onnx build copies out of its Maven artifact. Run it on a quiet machine: the callers and
# the servers share its cores.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
jar="$here/target/benchmarks.jar"
results="$here/results"
opts="${GRPC_OPTS:---warmup 3 --measure 8}"

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "== building $jar"
  (cd "$root" && mvn -B -ntp -q -Pbenchmarks -pl benchmarks -am package -DskipTests)
fi

# shellcheck source=java.sh
source "$here/java.sh"

mkdir -p "$results"
echo "== GrpcSideBySide $opts (commit $(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
cd "$root"
# shellcheck disable=SC2086
"$java_bin" --enable-native-access=ALL-UNNAMED -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$jar" dev.modserv.benchmarks.GrpcSideBySide $opts --out "$results/grpc.tsv" \
  2>&1 | tee "$results/grpc.log"
echo "== results: $results/grpc.tsv, $results/grpc.log"
