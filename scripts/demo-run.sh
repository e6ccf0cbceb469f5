#!/bin/sh
# demo-run.sh BUILD_DIR: run the lock-order example until it deadlocks,
# take a core dump of it, and print tangle's triage of that core.
# scripts/demo.sh builds everything and then calls this.
#
# The core is the kernel's where it can write one (core_pattern `core` here,
# or a plain path elsewhere, which is looked up and moved here); else (cores
# piped away, `ulimit -H -c` 0, or no core appeared) gdb's gcore takes it,
# capped at TANGLE_DEMO_CORE_CAP_MB (default 1024) MiB. TANGLE_DEMO_DUMP=gcore
# forces gcore. tests/e2e/test_demo.py checks the output against README.md.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)

build=${1:-build}
build=$(cd "$build" 2>/dev/null && pwd) || {
  echo "demo: no build folder '${1:-build}' (run scripts/demo.sh)" >&2; exit 2; }
example=$build/examples/lock-order
tangle=$build/inspect/tangle
for f in "$example" "$tangle"; do
  [ -x "$f" ] || { echo "demo: $f is missing: build first (scripts/demo.sh)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/tangle-demo.XXXXXX")
pid=""
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp "$example" "$work/lock-order"
cd "$work"

# A kernel core dump lands in this folder as "core" when core_pattern is
# the default; when cores are piped away (systemd-coredump, apport) or
# RLIMIT_CORE's hard limit is 0, gdb's gcore takes the dump instead.
hard=$(ulimit -H -c)
ulimit -c unlimited 2>/dev/null || ulimit -c "$hard"
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo core)
case $pattern in
  "|"*) method=gcore ;;
  *) if [ "$hard" = 0 ]; then method=gcore; else method=kernel; fi ;;
esac
[ "${TANGLE_DEMO_DUMP:-}" = gcore ] && method=gcore
cap_mb=${TANGLE_DEMO_CORE_CAP_MB:-1024}

# run: start the example, wait (at most 30 s) for the line that says the
# deadlock is in place; $pid is then the stuck process.
run() {
  rm -f out err
  mkfifo out
  ASAN_OPTIONS=disable_coredump=0:use_madv_dontdump=1:detect_leaks=0:handle_abort=0 \
    ./lock-order >out 2>err &
  pid=$!
  line=""
  exec 3<out
  if command -v timeout >/dev/null; then
    line=$(timeout 30 head -n 1 <&3 || true)
  else
    read -r line <&3 || true
  fi
  exec 3<&-
  if [ "$line" != "lock-order: hung" ]; then
    echo "demo: the example did not reach its hang (got '$line'):" >&2
    cat err >&2
    exit 1
  fi
}

# kernel_core: SIGABRT, then find the core the kernel wrote (here, or where
# a plain core_pattern path puts it) and move it here as "core".
kernel_core() {
  kill -ABRT "$pid"
  wait "$pid" 2>/dev/null || true
  [ -f core ] || for f in core.*; do
    [ -f "$f" ] && mv "$f" core && break
  done
  case $pattern in
    /*) [ -f core ] || {
          # %p the pid, %e the name, %% a %, any other specifier: anything.
          glob=$(printf '%s\n' "$pattern" | sed -e "s/%[pP]/$pid/g" \
            -e 's/%e/lock-order/g' -e 's/%%/\x01/g' -e 's/%./*/g' -e 's/\x01/%/g')
          for f in $glob $glob.$pid; do
            [ -f "$f" ] && mv "$f" core && break
          done
        } ;;
  esac
  pid=""
}

# gcore_core: gdb's gcore of the live process, then kill it. ASan's
# reserved, inaccessible mappings are left out (tests/e2e/gcore_dontdump.py),
# and ulimit -f caps the file (POSIX sh: 512-byte blocks).
gcore_core() {
  helper=$src/tests/e2e/gcore_dontdump.py
  set -- -batch -nx -q -iex "set auto-load off" -p "$pid"
  [ -f "$helper" ] && set -- "$@" -x "$helper"
  (ulimit -f $((cap_mb * 2048)); gdb "$@" -ex "gcore $work/core" -ex detach) \
    >gcore.log 2>&1 || true
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
  size=0
  [ -f core ] && size=$(wc -c <core)
  if [ "$size" -ge $((cap_mb * 1048576)) ] ||
     grep -q "File too large\|Failed to write corefile" gcore.log; then
    rm -f core
    echo "demo: gcore's core reached the cap of $cap_mb MiB and was deleted" \
         "(set TANGLE_DEMO_CORE_CAP_MB to allow more); gdb said:" >&2
    tail -n 5 gcore.log >&2
    exit 1
  fi
}

echo "demo: running examples/lock-order.c: two transfers take the mutexes"
echo "      \"accounts\" and \"ledger\" in opposite orders..."
run
echo "demo: it printed \"$line\": the program is stuck. Taking a core dump..."

if [ "$method" = kernel ]; then
  kernel_core
  if [ ! -f core ]; then
    echo "demo: the kernel wrote no core file (core_pattern: $pattern);" \
         "running it again for gdb's gcore" >&2
    method=gcore
    run
  fi
fi
[ "$method" = gcore ] && gcore_core
if [ ! -f core ]; then
  echo "demo: no core file was written (core_pattern: $pattern; gcore:" \
       "$(tail -n 1 gcore.log 2>/dev/null))" >&2
  exit 1
fi

echo "demo: core written ($(du -k core | cut -f1) KiB on disk). What tangle makes of it:"
echo
echo "\$ tangle triage core lock-order"
status=0
"$tangle" triage core lock-order || status=$?
echo
case $status in
  1) echo "demo: tangle found the deadlock (exit status 1: findings)." ;;
  0) echo "demo: tangle found nothing: that is a bug, the program deadlocked." >&2
     exit 1 ;;
  *) echo "demo: tangle could not read the core (exit status $status)." >&2
     exit "$status" ;;
esac
