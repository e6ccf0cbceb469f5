#!/bin/sh
# Build everything, then run the demo: a program that hangs, its core dump,
# and tangle's triage of it (scripts/demo-run.sh; README.md shows the output).
set -eu
cd "$(dirname "$0")/.."
# Checked first, so that a broken checkout fails before the long build.
if [ ! -x scripts/demo-run.sh ]; then
  echo "demo: scripts/demo-run.sh is missing or not executable" \
       "(chmod +x scripts/demo-run.sh, or run: sh scripts/demo-run.sh build)" >&2
  exit 2
fi
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
exec scripts/demo-run.sh build
