#!/bin/sh
# Cross-build libtangle and its runtime tests for aarch64 and run them under
# qemu-user (Debian 12, x86-64 host). Installs what it needs as root,
# skipping what is present: the cross compiler, qemu-user, and cmocka from
# the arm64 multiarch packages (adds the arm64 dpkg architecture once).
# Debug, no sanitizers, runtime only (no inspect, examples or benchmarks).
#
# Every runtime test runs; none is excluded. Under qemu-user the guest's
# threads run on host threads, and the host is x86-64, whose stronger
# memory ordering hides missing barriers: this checks the context switch,
# the stack setup, TLS and the overflow handler, not aarch64 memory ordering.
set -eu
cd "$(dirname "$0")/.."
build=build-aarch64

packages="cmake make pkg-config gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  qemu-user libcmocka-dev:arm64"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "tangle: missing Debian packages:$missing (run as root to install)" >&2
    exit 1
  fi
  dpkg --print-foreign-architectures | grep -qx arm64 ||
    dpkg --add-architecture arm64
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
  -DCMAKE_BUILD_TYPE=Debug -DTANGLE_BUILD_INSPECT=OFF \
  -DTANGLE_BUILD_EXAMPLES=OFF -DTANGLE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j2
# ctest runs each test through CMAKE_CROSSCOMPILING_EMULATOR (qemu-aarch64,
# from the toolchain file); the tests' own 300 s timeout is ample (the whole
# label takes seconds under qemu).
ctest --test-dir "$build" --output-on-failure -j2 -L runtime
echo "tangle: aarch64 runtime tests passed (qemu-user)"
