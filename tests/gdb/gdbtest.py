#!/usr/bin/env python3
"""gdb -batch tests of tangle's gdb frontend (ctest label "gdb").

    gdbtest.py CASE key=value...

Each case runs gdb -batch on a program (live, or a core it makes first with
gcore) and checks the output against patterns. Keys: loader (the build
tree's tangle-gdb.py), toy (toy_tasks), fake (fake_engine library),
workdir (scratch directory), and for the real runtime cases prog, cli,
engine.
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases_rt  # noqa: E402,F401  (registers its cases)
import cases_toy  # noqa: E402,F401
import cases_ui  # noqa: E402,F401
from gdbharness import ARGS, CASES, Failure, Skip  # noqa: E402


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in CASES:
        print("usage: gdbtest.py CASE key=value...\ncases: "
              + " ".join(sorted(CASES)))
        return 2
    for kv in sys.argv[2:]:
        k, _, v = kv.partition("=")
        ARGS[k] = v
    ARGS.setdefault("workdir", os.path.join(os.getcwd(), "gdbtest-work",
                                            sys.argv[1]))
    try:
        CASES[sys.argv[1]](ARGS)
    except Skip as e:
        print("skip %s: %s" % (sys.argv[1], e))
        return 77
    except Failure as e:
        print("FAIL %s: %s" % (sys.argv[1], e))
        return 1
    shutil.rmtree(ARGS["workdir"], ignore_errors=True)   # cores are big
    print("ok %s" % sys.argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
