#!/usr/bin/env python3
"""The examples built for aarch64, dumped under qemu-user and read on this
x86-64 host: tangle's CLI, and lldb with --lldb, on aarch64 core dumps.

    tests/e2e/aarch64.py --build BUILD_AARCH64 --tangle CLI [--lldb SCRIPT]
                         [--source SRC] [name ...]

BUILD_AARCH64 is a cross build with the examples (scripts/test-aarch64.sh);
CLI the tangle program of a host build. qemu-user writes the guest's core,
in aarch64 format, as qemu_<program>_<time>_<pid>.core in its working
directory when the guest dies of a signal that dumps (SIGABRT here), if
RLIMIT_CORE allows. The checks are the e2e ones (tests/e2e/e2e.py): the
manifest's findings, each manifest task waiting at its tagged line, the
CLI's bt of those tasks showing that wait, and lldb's triage JSON the same
bytes as the CLI's. gdb is not run: Debian's gdb reads x86 cores only, and
gdb-multiarch does not relocate the program of a qemu-user core (it has no
NT_FILE note).
"""

import argparse
import glob
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check  # noqa: E402
import dump  # noqa: E402
import manifest  # noqa: E402
from frontends import Cli, Lldb  # noqa: E402


def qemu_dump(qemu, build, m, workdir):
    """Run the example under qemu until its line, then SIGABRT: the
    guest's core file."""
    build = os.path.abspath(build)
    exe = os.path.join(build, "examples", m["name"])
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(build, "runtime"))
    out_path = os.path.join(workdir, "stdout")
    err = open(os.path.join(workdir, "stderr"), "wb")
    proc = subprocess.Popen([qemu, exe] + list(m["args"]), cwd=workdir, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=err)
    err.close()
    try:
        # qemu runs the guest ~10x slower than the host
        dump._wait_line(proc, m["line"], 10 * m.get("timeout", 30), out_path)
        proc.send_signal(signal.SIGABRT)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    cores = glob.glob(os.path.join(workdir, "qemu_*.core"))
    if len(cores) != 1:
        raise dump.DumpError("qemu wrote %d guest cores in %s (exit status %s)"
                             % (len(cores), workdir, proc.returncode))
    return exe, cores[0]


def check_example(args, cli, lldb, name):
    m = manifest.load(args.source, name)
    problems = []
    workdir = tempfile.mkdtemp(prefix="tangle-a64-%s." % name)
    try:
        exe, core = qemu_dump(args.qemu, args.build, m, workdir)
        r = cli.triage_json(core, exe)
        doc = json.loads(r.out) if r.status in (0, 1) else None
        if doc is None:
            return ["tangle triage --json: " + r.describe()]
        problems += check.check_findings(doc, m)
        t = cli.tasks_json(core, exe)
        if t.status not in (0, 1):
            return problems + ["tangle tasks --json: " + t.describe()]
        tasks = json.loads(t.out)
        problems += check.check_wait_sites(tasks, m)
        for task_id, _, wait in check.bt_targets(tasks, m):
            bt = cli.bt(core, exe, task_id)
            problems += ["bt %s: %s" % (task_id, p)
                         for p in check.check_bt_text(bt.out, wait)]
        if lldb is not None:
            d = lldb.triage_json(core, exe)
            if d.json is None:
                problems.append("lldb tangle triage --json: " + d.describe())
            elif d.json.strip() != r.out.strip():
                problems.append("lldb's triage JSON differs from the CLI's")
    except (dump.DumpError, subprocess.TimeoutExpired, ValueError) as e:
        problems.append(str(e))
    finally:
        if problems and args.keep:
            print("  kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return problems


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", required=True, help="the aarch64 build folder")
    p.add_argument("--tangle", required=True, help="the host's tangle CLI")
    p.add_argument("--lldb", help="also check lldb with this script")
    p.add_argument("--source", default=os.path.join(os.path.dirname(os.path.dirname(HERE)),
                                                    "examples"))
    p.add_argument("--qemu", default=shutil.which("qemu-aarch64") or "qemu-aarch64")
    p.add_argument("--keep", action="store_true", help="keep the cores of failures")
    p.add_argument("names", nargs="*", help="examples (default: all)")
    args = p.parse_args()

    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    if hard == 0:
        print("aarch64 cores: skipped: RLIMIT_CORE's hard limit is 0 here, and "
              "qemu-user writes no core then")
        return 0
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
    names = args.names or sorted(os.path.basename(f)[:-len(".expect")] for f in
                                 glob.glob(os.path.join(args.source, "*.expect")))
    cli = Cli(args.tangle)
    lldb = Lldb(args.lldb) if args.lldb else None
    failed = 0
    for name in names:
        problems = check_example(args, cli, lldb, name)
        print("%s aarch64 core: %s" % (name, "ok" if not problems else "FAILED"))
        for pr in problems:
            print("  " + pr)
        failed += bool(problems)
    print("aarch64 cores: %d of %d examples passed%s" % (
        len(names) - failed, len(names), " (CLI and lldb)" if lldb else " (CLI)"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
