#!/bin/sh
# Build everything, then run the demo: a program that hangs, its core dump,
# and tangle's triage of it.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
if [ -x scripts/demo-run.sh ]; then
  exec scripts/demo-run.sh build
fi
