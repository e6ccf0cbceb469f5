#!/bin/sh
# Run every test: unit tests under ASan+UBSan, the end-to-end tests on real
# core dumps, then the runtime's concurrency tests under TSan, a clang build
# with its unit tests, the runtime tests on aarch64 under qemu-user, and a
# short fuzzing run of the table decoder.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
  -DTANGLE_SANITIZE=address,undefined -DTANGLE_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs"

cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DTANGLE_SANITIZE=thread \
  -DTANGLE_BUILD_INSPECT=OFF -DTANGLE_BUILD_BENCH=OFF \
  -DTANGLE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-tsan -j"$jobs"
ctest --test-dir build-tsan --output-on-failure -j"$jobs" -L runtime

# clang: everything compiles warning-free, and the readers still find
# lines in clang's DWARF (no .debug_aranges); the unit tests, plain, and
# the benchmarks' in-process A/B program (bench/ab.c) once.
CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Debug \
  -DTANGLE_BUILD_BENCH=ON >/dev/null
cmake --build build-clang -j"$jobs"
ctest --test-dir build-clang --output-on-failure -j"$jobs" -L "runtime|inspect|cli|bench"

# aarch64: the runtime and its tests cross-built and run under qemu-user
# (installs the cross toolchain, qemu-user and cmocka:arm64 when missing).
scripts/test-aarch64.sh

if [ -x scripts/fuzz.sh ]; then
  scripts/fuzz.sh
fi
echo "tangle: all tests passed"
