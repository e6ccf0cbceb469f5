#!/usr/bin/env python3
"""Time the lldb frontend on a real core dump of a program with many tasks
(lldb_many, 100,000 by default). Not a test: it prints figures.

    tests/lldb/bench_lldb.py --build build [--tasks N] [--cli]

Each figure is one command timed inside lldb-16 (SBCommandInterpreter),
on the core, the module already imported: the first command of each row
also opens the engine session (reads and decodes the whole table).

100,000 tasks need 200,000+ memory mappings (a stack and its guard page
each): raise vm.max_map_count first (sysctl -w vm.max_map_count=262144).
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lldbtest import Env  # noqa: E402

TIMER = '''
import time, lldb
def timeit(debugger, command, exe_ctx, result, internal_dict):
    r = lldb.SBCommandReturnObject()
    t = time.monotonic()
    debugger.GetCommandInterpreter().HandleCommand(command, r)
    dt = time.monotonic() - t
    text = r.GetOutput() or r.GetError()
    result.Print("TIME %-32s %7.2f s  (%d lines)\\n" % (command, dt, text.count("\\n")))
def __lldb_init_module(debugger, d):
    debugger.HandleCommand("command script add -o -f %s.timeit timeit" % __name__)
'''

ROWS = [
    ["tangle threads off", "timeit tangle tasks --group", "timeit tangle triage --json",
     "timeit tangle bt {mid}"],
    ["timeit tangle threads on", "timeit tangle tasks --group", "timeit tangle bt {mid}",
     "timeit tangle task {mid}", "timeit bt"],
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build")
    p.add_argument("--tasks", type=int, default=100000)
    p.add_argument("--cli", action="store_true", help="also time the tangle CLI")
    p.add_argument("--keep", action="store_true", help="keep the core (in the work folder)")
    a = p.parse_args()
    build = os.path.abspath(a.build)
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    work = os.path.join(build, "tests", "lldb", "work", "bench")
    exe = os.path.join(build, "tests", "lldb", "lldb_many")
    env = Env(["--module", os.path.join(src, "lldb", "tangle_lldb.py"),
               "--engine", os.path.join(build, "inspect", "libtangle-inspect.so"),
               "--work", work, "lldb_many=" + exe])
    timer = os.path.join(work, "timer.py")
    with open(timer, "w") as f:
        f.write(TIMER)
    t = time.monotonic()
    core = env.core("lldb_many", [str(a.tasks)], ready="ready")
    print("core of %d tasks: %.0f MB, taken in %.1f s"
          % (a.tasks, os.path.getsize(core) / 1e6, time.monotonic() - t))
    for i, row in enumerate(ROWS):
        row = [c.format(mid=a.tasks // 2) for c in row]
        out = env.lldb(["command script import " + timer] + row, [exe, "-c", core],
                       name="row%d" % i)
        for line in out.splitlines():
            if line.startswith("TIME "):
                print(line[5:])
            elif "error:" in line or "Traceback" in line:
                print(line)
    if a.cli:
        cli = os.path.join(build, "inspect", "tangle")
        for cmd in (["triage", "--json"], ["tasks", "--group"]):
            t = time.monotonic()
            subprocess.run([cli] + cmd + [core, exe], capture_output=True)
            print("cli %-28s %7.2f s" % (" ".join(cmd), time.monotonic() - t))
    env.finish()
    if not a.keep:
        os.unlink(core)


if __name__ == "__main__":
    main()
