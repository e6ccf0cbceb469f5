#!/usr/bin/env python3
"""Time the gdb frontend on a big program (docs/gdb.md, "Speed").

    tests/gdb/perf.py --build BUILD [--tasks 100000] [--keep] [--core-only]

Runs gdb_many with N tasks, takes its kernel core, and times in gdb -batch:
opening the session (decoding every task) with `tangle tasks --group`, the
same command again on the open session, `tangle tasks`, `tangle triage
--json`, `tangle bt` of 100 tasks (gdb's own unwinding), `tangle task`
with none selected, `$tangle_current_task()`, completing a task id and
selecting one task; then the same live, stopped at gdb_many_ready
(unless --core-only). The tangle CLI on the same core, when it is built,
for comparison. Not a test: nothing is asserted.

More than ~32,000 tasks need vm.max_map_count above 65530 (a stack and its
guard page are two mappings); as root the script raises it for the run
and puts it back.
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time

TIMER = r'''
import gdb, time
def timed(label, cmd):
    t = time.perf_counter()
    out = gdb.execute(cmd, to_string=True)
    print("PERF %-34s %7.3f s  %d lines" % (label, time.perf_counter() - t,
                                          out.count("\n")))
timed("open + tasks --group", "tangle tasks --group")
timed("tasks --group (open session)", "tangle tasks --group")
timed("tasks", "tangle tasks")
timed("triage --json", "tangle triage --json")
timed("bt of 100 tasks", "tangle bt " + " ".join(str(i) for i in range(10, 110)))
timed("task (none selected)", "tangle task")
timed("print $tangle_current_task()", "print $tangle_current_task()")
timed("complete tangle task 9999", "complete tangle task 9999")
timed("task 500 (select it)", "tangle task 500")
'''

MAX_MAP = "/proc/sys/vm/max_map_count"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    p.add_argument("--tasks", type=int, default=100000)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--core-only", action="store_true",
                   help="time gdb on the core only, not live")
    a = p.parse_args()
    build = os.path.abspath(a.build)
    prog = os.path.join(build, "tests", "gdb", "gdb_many")
    loader = os.path.join(build, "gdb", "tangle-gdb.py")
    work = os.path.join(build, "tests", "gdb", "perf")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    timer = os.path.join(work, "timer.py")
    with open(timer, "w") as f:
        f.write(TIMER)

    with open(MAX_MAP) as f:
        old_max = f.read().strip()
    need = 2 * a.tasks + 10000
    raised = int(old_max) < need and os.geteuid() == 0
    if raised:
        with open(MAX_MAP, "w") as f:
            f.write(str(need))
    try:
        def cores_on():
            resource.setrlimit(resource.RLIMIT_CORE, (8 << 30, 8 << 30))
        t = time.perf_counter()
        subprocess.run([prog, str(a.tasks), "abort"], cwd=work,
                       preexec_fn=cores_on, stdout=subprocess.DEVNULL)
        core = os.path.join(work, "core")
        if not os.path.exists(core):
            sys.exit("perf: no core in %s (core_pattern?)" % work)
        print("core of %d tasks: %.0f MB, made in %.1f s"
              % (a.tasks, os.path.getsize(core) / 1e6,
                 time.perf_counter() - t))
        gdb = ["gdb", "-batch", "-nx", "-q", "-x", loader]
        runs = [("gdb, core", gdb + ["-x", timer, prog, core])]
        if not a.core_only:
            runs.append(("gdb, live", gdb + [
                "-ex", "break gdb_many_ready", "-ex", "run", "-x", timer,
                "-ex", "kill", "--args", prog, str(a.tasks)]))
        for label, argv in runs:
            t = time.perf_counter()
            out = subprocess.run(argv, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True).stdout
            print("%s (whole gdb run %.1f s):" % (label,
                                                 time.perf_counter() - t))
            for line in out.splitlines():
                if line.startswith("PERF "):
                    print("  " + line[5:])
        cli = os.path.join(build, "inspect", "tangle")
        if os.path.exists(cli):
            for cmd in (["tasks", "--group"], ["triage", "--json"]):
                t = time.perf_counter()
                subprocess.run([cli] + cmd + [core, prog],
                               stdout=subprocess.DEVNULL)
                print("CLI %-30s %7.3f s" % (" ".join(cmd),
                                             time.perf_counter() - t))
    finally:
        if raised:
            with open(MAX_MAP, "w") as f:
                f.write(old_max)
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
