#!/bin/sh
# Cross-build libtangle and its runtime tests for aarch64 and run them under
# qemu-user (Debian 12, x86-64 host). Installs what it needs as root,
# skipping what is present: the cross compiler, qemu-user, and cmocka from
# the arm64 multiarch packages (adds the arm64 dpkg architecture once).
# Debug, no sanitizers, the runtime and the examples (no inspect or
# benchmarks): the examples' cores are read by the host's tools (below).
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
  -DTANGLE_BUILD_EXAMPLES=ON -DTANGLE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j2
# ctest runs each test through CMAKE_CROSSCOMPILING_EMULATOR (qemu-aarch64,
# from the toolchain file); the tests' own 300 s timeout is ample (the whole
# label takes seconds under qemu).
ctest --test-dir "$build" --output-on-failure -j2 -L runtime
echo "tangle: aarch64 runtime tests passed (qemu-user)"

# The readers on aarch64 cores: each example runs under qemu-user until it
# hangs, qemu writes its core in aarch64 format, and the CLI and lldb of a
# host build (TANGLE_HOST_BUILD, default build-asan) read it on this host
# (tests/e2e/aarch64.py: the e2e checks against each example's manifest).
host=${TANGLE_HOST_BUILD:-build-asan}
if [ -x "$host/inspect/tangle" ]; then
  set -- --build "$build" --tangle "$host/inspect/tangle"
  if [ -f "$host/lldb/tangle_lldb_build.py" ] && command -v lldb-16 >/dev/null; then
    set -- "$@" --lldb "$host/lldb/tangle_lldb_build.py"
  fi
  python3 tests/e2e/aarch64.py "$@"
else
  echo "tangle: aarch64 cores not read: no host CLI at $host/inspect/tangle" \
       "(build one, or set TANGLE_HOST_BUILD)"
fi
