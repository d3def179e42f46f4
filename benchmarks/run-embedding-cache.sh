#!/usr/bin/env bash
# Builds benchmarks/target/benchmarks.jar and measures the embedding cache (issue 20):
#  1. EmbeddingCacheBench: POST /v1/embeddings with 32 texts per request at 0%, 50%, 90% and 100%
#     repeated texts, the int8 all-MiniLM-L6-v2 with the embedding cache on and off side by side in
#     one server, at 1 and 4 connections (loopback);
#  2. EmbeddingCacheHitBenchmark (JMH): the hit path of a request whose 32 texts are all cached,
#     against 32 lookups in a ConcurrentHashMap (and in a Caffeine cache) plus copying the vectors.
# Results go to benchmarks/results/ (ignored by git): embedding-cache.tsv, embedding-cache.log,
# embedding-cache-hit.csv and embedding-cache-hit.log.
#
#   benchmarks/run-embedding-cache.sh          # build, then run (~4 min)
#   SKIP_BUILD=1 benchmarks/run-embedding-cache.sh
#   BENCH_OPTS="--measure 10 --rounds 5 --connections 1,4,16" benchmarks/run-embedding-cache.sh
#   JMH_OPTS="-wi 5 -i 10 -w 1s -r 2s -f 2" benchmarks/run-embedding-cache.sh
#
# Needs a JDK >= 21 to run the jar (see java.sh). Run it on a quiet machine: the client, the HTTP
# server and the model share its cores.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
jar="$here/target/benchmarks.jar"
results="$here/results"
opts="${BENCH_OPTS:---warmup 1 --measure 3 --rounds 3 --repeats 0,50,90,100 --connections 1,4}"
jmh_opts="${JMH_OPTS:--wi 3 -i 5 -w 1s -r 1s -f 1}"

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "== building $jar"
  # package runs generate-test-resources, which copies MiniLM into modserv-onnx/target/minilm-jar.
  (cd "$root" && mvn -B -ntp -q -Pbenchmarks -pl benchmarks -am package -DskipTests)
fi

# shellcheck source=java.sh
source "$here/java.sh"

mkdir -p "$results"
# The model path is relative to the repository root.
cd "$root"
log="$results/embedding-cache.log"
echo "== EmbeddingCacheBench $opts (commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))" | tee "$log"
echo "   start $(date -u +%FT%TZ), $(nproc 2>/dev/null || echo '?') CPUs, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" | tee -a "$log"
# shellcheck disable=SC2086
"$java_bin" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.modserv.benchmarks.EmbeddingCacheBench \
  $opts --out "$results/embedding-cache.tsv" 2>&1 | tee -a "$log"

echo "== EmbeddingCacheHitBenchmark $jmh_opts" | tee -a "$log"
# shellcheck disable=SC2086
"$java_bin" -jar "$jar" EmbeddingCacheHitBenchmark $jmh_opts \
  -jvmArgsAppend "--enable-native-access=ALL-UNNAMED" \
  -rf csv -rff "$results/embedding-cache-hit.csv" > "$results/embedding-cache-hit.log" 2>&1 \
  || { tail -40 "$results/embedding-cache-hit.log"; echo "JMH failed; see $results/embedding-cache-hit.log"; exit 1; }
sed -n '/^Benchmark  /,/^$/p' "$results/embedding-cache-hit.log" | tee -a "$log"
echo "   end $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" | tee -a "$log"
echo "== results: $results/embedding-cache.tsv, $results/embedding-cache-hit.csv, $log"
