#!/bin/sh
# demo-run.sh BUILD_DIR: run the lock-order example until it deadlocks,
# take a core dump of it, and print tangle's triage of that core.
# scripts/demo.sh builds everything and then calls this.
set -eu

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
# the default; when cores are piped away (systemd-coredump, apport), gdb's
# gcore takes the dump instead.
ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)"
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo core)
case $pattern in
  "|"*) method=gcore ;;
  *) method=kernel ;;
esac

echo "demo: running examples/lock-order.c: two transfers take the mutexes"
echo "      \"accounts\" and \"ledger\" in opposite orders..."
mkfifo out
ASAN_OPTIONS=disable_coredump=0:use_madv_dontdump=1:detect_leaks=0 \
  ./lock-order >out 2>err &
pid=$!
# Wait (at most 30 s) for the line that says the deadlock is in place.
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
echo "demo: it printed \"$line\": the program is stuck. Taking a core dump..."

if [ "$method" = gcore ]; then
  gcore -o core "$pid" >/dev/null 2>&1 && mv "core.$pid" core
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
else
  kill -ABRT "$pid"
  wait "$pid" 2>/dev/null || true
  [ -f core ] || for f in core.*; do [ -f "$f" ] && mv "$f" core && break; done
fi
pid=""
if [ ! -f core ]; then
  echo "demo: no core file was written (core_pattern: $pattern)" >&2
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
