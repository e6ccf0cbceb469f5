#!/bin/sh
# Fuzz the engine's decoder for a short while (CI: FUZZ_SECONDS, default 45)
# from a seed corpus of synthetic tables. Crashes are kept in build-fuzz/.
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-45}
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
  -DTANGLE_BUILD_FUZZ=ON -DTANGLE_BUILD_TESTS=OFF -DTANGLE_BUILD_BENCH=OFF \
  -DTANGLE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_decode fuzz_seed >/dev/null
corpus=build-fuzz/corpus
mkdir -p "$corpus" build-fuzz/artifacts
build-fuzz/inspect/fuzz/fuzz_seed "$corpus"
build-fuzz/inspect/fuzz/fuzz_decode -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -max_len=200000 -print_final_stats=1 \
  -artifact_prefix=build-fuzz/artifacts/ "$corpus" 2>build-fuzz/fuzz.log ||
  { tail -50 build-fuzz/fuzz.log; echo "fuzz: failure, see build-fuzz/artifacts" >&2; exit 1; }
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build-fuzz/fuzz.log || true
echo "fuzz: no failure in ${seconds}s"
