#!/bin/sh
# measure_core.sh BUILD [N]: time `tangle triage` and `tangle tasks` on a
# real core of a program with N sleeping tasks (default 100000); the bar is
# under 1 s each (docs/performance.md, "Reading a 100,000-task core").
#
# Makes the core with BUILD/tests/cli/cli_prog (kernel core dump, in a
# scratch directory; BUILD needs the targets cli_prog and tangle-cli, e.g. a
# Release build with -DTANGLE_SANITIZE=), then runs each command 5 times on
# a warm page cache and prints the median wall time, its CPU time (user +
# system) and peak memory, with the commit and the machine's load. On a busy machine the CPU time is the steadier figure. Each task has its own
# stack mapping plus a guard page, so the program needs vm.max_map_count
# above 2 * N (the default, 65530, allows about 32,000 tasks): raise it
# first, e.g. `sysctl -w vm.max_map_count=262144`.
set -eu
build=${1:?usage: measure_core.sh BUILD [N]}
build=$(cd "$build" && pwd)   # the measurement runs in a scratch directory
n=${2:-100000}
commit=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)
prog=$build/tests/cli/cli_prog
tangle=$build/inspect/tangle
for f in "$prog" "$tangle"; do
  [ -x "$f" ] || { echo "measure_core: no $f (build first)" >&2; exit 2; }
done
need=$((2 * n + 1000))
have=$(cat /proc/sys/vm/max_map_count)
if [ "$have" -lt "$need" ]; then
  echo "measure_core: $n tasks need vm.max_map_count >= $need (it is $have)" >&2
  exit 2
fi
case $(cat /proc/sys/kernel/core_pattern) in
  '|'*|/*) echo "measure_core: core_pattern does not write ./core" >&2; exit 2 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/tangle-measure.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
ulimit -c unlimited
"$prog" sleepers "$n" > out &
pid=$!
i=0
until grep -q ready out 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 600 ] || { kill -9 $pid; echo "measure_core: not ready" >&2; exit 2; }
  sleep 0.1
done
kill -ABRT $pid
wait $pid 2>/dev/null || true
[ -f core ] || { echo "measure_core: no core" >&2; exit 2; }
echo "commit $commit, $(uptime)"
echo "core: $n tasks, $(du -m core | cut -f1) MB on disk, $(($(stat -c %s core) / 1048576)) MB apparent"

for cmd in triage tasks; do
  "$tangle" $cmd core > /dev/null || [ $? -eq 1 ]   # warm the page cache
  for run in 1 2 3 4 5; do
    /usr/bin/time -f "%e %U %S %M" -o time.$run "$tangle" $cmd core > /dev/null || true
  done
  cat time.* | sort -n | sed -n 3p | {
    read -r secs user sys kb
    echo "tangle $cmd: median ${secs} s wall (${user} s user, ${sys} s system), peak $((kb / 1024)) MB"
  }
done
