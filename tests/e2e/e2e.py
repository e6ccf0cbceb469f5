#!/usr/bin/env python3
"""End-to-end checks of the examples on real core dumps.

  e2e.py --build BUILD --source SRC example NAME      one example
  e2e.py --build BUILD --source SRC signatures        lock-order x5 vs. the rest
  e2e.py --build BUILD --source SRC all               everything, 2 at a time
  e2e.py --build BUILD --source SRC exits healthy-server  runs 3 s, exits 0
  e2e.py --build BUILD --dump gcore example NAME      dumped by gdb's gcore

For one example: run it until it prints its line (and nothing else), dump
a core (dump.py), then check that `tangle triage --json CORE EXE` gives
exactly the findings of examples/NAME.expect, that the tasks wait at the
tagged lines, that `tangle bt ID` shows the function and line of each wait,
and (when enabled with --gdb / --lldb) that gdb and lldb print the same
JSON and that their `tangle bt ID` show the CLI's frame of each wait.
Exit status 0: all passed; 1: a check failed; 2: could not run.
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import check  # noqa: E402
import dump  # noqa: E402
import frontends  # noqa: E402
import manifest  # noqa: E402

SIGNATURE_RUNS = [  # lock-order: (warm-up payments, extra delay before the dump)
    ("0", 0.0), ("3", 0.4), ("17", 0.1), ("5", 0.8), ("40", 0.2)]


class Context:
    def __init__(self, opts):
        self.build = os.path.abspath(opts.build)
        self.source = os.path.abspath(opts.source)
        self.examples_src = os.path.join(self.source, "examples")
        self.examples_bin = os.path.join(self.build, "examples")
        self.work = os.path.join(self.build, "tests", "e2e", "work")
        self.results = os.path.join(self.build, "tests", "e2e", "results")
        self.keep = opts.keep
        self.dump = opts.dump  # None: the kernel where it can (dump.py)
        self.cli = frontends.Cli(opts.tangle or os.path.join(self.build, "inspect", "tangle"))
        lib = os.path.join(self.build, "inspect", "libtangle-inspect.so")
        lib = lib if os.path.exists(lib) else None
        self.gdb = frontends.Gdb(opts.gdb, lib) if opts.gdb else None
        self.lldb = frontends.Lldb(opts.lldb, lib) if opts.lldb else None

    def exe(self, name):
        return os.path.join(self.examples_bin, name)


class Report:
    """Collects check results for one run and prints them as it goes."""

    def __init__(self, label):
        self.label = label
        self.failed = []
        self.lines = []

    def check(self, what, problems):
        if problems:
            self.failed.append(what)
            self.lines.append("FAIL %s" % what)
            self.lines.extend("     " + p.replace("\n", "\n     ") for p in problems)
        else:
            self.lines.append("ok   %s" % what)

    def skip(self, what, why):
        self.lines.append("skip %s: %s" % (what, why))

    def text(self):
        return "\n".join("[%s] %s" % (self.label, line) for line in self.lines)


def _dump(ctx, name, m, label, args=None, delay=0.0):
    workdir = os.path.join(ctx.work, label)
    shutil.rmtree(workdir, ignore_errors=True)
    return dump.run_and_dump(ctx.exe(name), m["line"], workdir,
                             args=m["args"] if args is None else args,
                             timeout=m.get("timeout", 30), delay=delay,
                             method=ctx.dump)


def _triage(ctx, d, report):
    """Run the CLI's triage; returns the parsed document or None."""
    r = ctx.cli.triage_json(d.core, d.exe)
    if r.status not in (0, 1):
        report.check("tangle triage --json", [r.describe()])
        return None, r
    try:
        doc = json.loads(r.out)
    except ValueError as e:
        report.check("tangle triage --json", ["not JSON (%s): %r" % (e, r.out[:500])])
        return None, r
    return doc, r


def _tasks(ctx, d, report):
    """`tangle tasks --json`: every task and its wait; None on failure."""
    r = ctx.cli.tasks_json(d.core, d.exe)
    try:
        if r.status not in (0, 1):
            raise ValueError("exit status %s" % r.status)
        return json.loads(r.out)
    except ValueError as e:
        report.check("tangle tasks --json", ["%s\n%s" % (e, r.describe())])
        return None


def _check_debuggers(ctx, d, cli_out, report):
    for what, fe in (("gdb", ctx.gdb), ("lldb", ctx.lldb)):
        if fe is None:
            report.skip(what, "off (no %s script registered)" % what)
            continue
        r = fe.triage_json(d.core, d.exe)
        if r.json is None:
            report.check(what + " tangle triage --json", [r.describe() + "\nstdout: "
                                                           + r.out[-2000:]])
        else:
            same = json.loads(r.json).get("findings") == json.loads(cli_out).get("findings")
            report.check(what + " gives the CLI's findings", [] if same else
                         ["findings differ from the CLI's"])
            report.check(what + " JSON byte-identical to the CLI's",
                         [] if r.json.strip() == cli_out.strip() else
                         [_first_difference(cli_out.strip(), r.json.strip())])


def _check_debugger_bts(ctx, d, targets, cli_bt, report):
    """gdb's and lldb's `tangle bt ID` of each task of the manifest's waits
    show the CLI's frame of the wait (number, function, file:line, what it
    awaits). One debugger run per example does all the IDs."""
    if not targets:
        return
    ids = [task_id for task_id, _, _ in targets]
    for what, fe in (("gdb", ctx.gdb), ("lldb", ctx.lldb)):
        if fe is None:
            continue
        r = fe.bt(d.core, d.exe, ids)
        for task_id, task_name, w in targets:
            label = "%s tangle bt %s (%s) shows the CLI's frame %s at %s:%d" % (
                what, task_id, task_name, w["function"], w["file"], w["line"])
            if r.status != 0:
                report.check(label, [r.describe()])
            else:
                report.check(label, check.check_same_wait_frame(
                    cli_bt.get(task_id, ""), r.out, task_id, w))


def _first_difference(a, b):
    for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines())):
        if x != y:
            return "line %d differs:\n  cli: %s\n  dbg: %s" % (i + 1, x[:300], y[:300])
    return "lengths differ: cli %d bytes, debugger %d bytes" % (len(a), len(b))


def run_example(ctx, name, label=None, args=None, delay=0.0):
    """All checks of one example. Returns (report, document or None)."""
    label = label or name
    report = Report(label)
    try:
        m = manifest.load(ctx.examples_src, name)
    except manifest.ManifestError as e:
        report.check("manifest", [str(e)])
        return report, None
    started = time.monotonic()
    try:
        d = _dump(ctx, name, m, label, args, delay)
    except (dump.DumpError, OSError) as e:
        report.check("run and dump", [str(e)])
        return report, None
    report.check("line after %.1f s, %s" % (d.seconds, d.describe()), [])
    doc, r = _triage(ctx, d, report)
    if doc is not None:
        want_status = 1 if m["findings"] else 0
        report.check("exit status %d" % want_status,
                     [] if r.status == want_status else ["exit status %s" % r.status])
        report.check("findings", check.check_findings(doc, m))
        tasks = _tasks(ctx, d, report)
        if tasks is not None:
            report.check("wait sites", check.check_wait_sites(tasks, m))
        targets = check.bt_targets(tasks or {}, m)
        cli_bt = {}
        for task_id, task_name, w in targets:
            b = ctx.cli.bt(d.core, d.exe, task_id)
            what = "tangle bt %s (%s) shows %s at %s:%d" % (
                task_id, task_name, w["function"], w["file"], w["line"])
            report.check(what, [b.describe()] if b.status not in (0, 1)
                         else check.check_bt_text(b.out, w))
            cli_bt[task_id] = b.out
        _check_debuggers(ctx, d, r.out, report)
        _check_debugger_bts(ctx, d, targets, cli_bt, report)
        os.makedirs(ctx.results, exist_ok=True)
        with open(os.path.join(ctx.results, label + ".json"), "w") as f:
            f.write(r.out)
    report.lines.append("time %.1f s" % (time.monotonic() - started))
    if report.failed:
        report.lines.append("kept %s" % d.workdir)
    elif not ctx.keep:
        shutil.rmtree(d.workdir, ignore_errors=True)
    return report, doc


def example_names(ctx):
    return sorted(f[:-len(".expect")] for f in os.listdir(ctx.examples_src)
                  if f.endswith(".expect"))


def _fresh_result(ctx, name):
    """The triage JSON an earlier run of this build saved, if still valid."""
    path = os.path.join(ctx.results, name + ".json")
    try:
        saved = os.path.getmtime(path)
        if saved < os.path.getmtime(ctx.exe(name)) or saved < os.path.getmtime(ctx.cli.path):
            return None
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def aslr_off():
    """True when the examples we start get no address randomisation."""
    try:
        with open("/proc/sys/kernel/randomize_va_space") as f:
            if f.read().strip() == "0":
                return True
        with open("/proc/self/personality") as f:
            return bool(int(f.read(), 16) & 0x0040000)  # ADDR_NO_RANDOMIZE
    except (OSError, ValueError):
        return False


def run_signatures(ctx, jobs=2):
    """lock-order five times: one signature, shared by no other example."""
    report = Report("signatures")
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        runs = list(pool.map(lambda run: run_example(
            ctx, "lock-order", "lock-order-%s" % run[0], [run[0]], run[1]),
            SIGNATURE_RUNS))
        others = {}
        missing = []
        for name in example_names(ctx):
            if name == "lock-order":
                continue
            doc = _fresh_result(ctx, name)
            if doc is None:
                missing.append(name)
            else:
                others[name] = doc
        for name, (_, doc) in zip(missing, pool.map(
                lambda n: run_example(ctx, n, "sig-" + n), missing)):
            others[name] = doc
    sigs = []
    docs = []
    for (warm, _), (r, doc) in zip(SIGNATURE_RUNS, runs):
        report.lines.extend("%s: %s" % (r.label, line) for line in r.lines)
        report.failed.extend("%s: %s" % (r.label, what) for what in r.failed)
        if doc is None:
            report.check("lock-order run %s" % warm, ["no triage"])
            continue
        sigs.append(tuple(check.signatures(doc)))
        docs.append(doc)
    if len(docs) == len(SIGNATURE_RUNS):
        problems, skipped = check.check_runs_differ(docs, aslr_off())
        report.check("the 5 runs differ: task ids %s, object addresses %s" % (
            [check.finding_task_ids(d) for d in docs],
            sorted({check.finding_addresses(d) for d in docs})[:5]), problems)
        if skipped:
            report.skip("object addresses differ", skipped)
    report.check("5 lock-order runs give one signature %s" % (sigs[:1],),
                 [] if len(sigs) == 5 and len(set(sigs)) == 1 and sigs[0]
                 and all(sigs[0]) else ["signatures: %s" % sigs])
    if sigs:
        clash = ["%s has signature %s too" % (n, s) for n, doc in sorted(others.items())
                 if doc is not None for s in check.signatures(doc) if s in sigs[0]]
        report.check("lock-order's signature differs from every other example's", clash)
    unread = [n for n, doc in others.items() if doc is None]
    if unread:
        report.check("other examples triaged", ["no triage for %s" % ", ".join(unread)])
    return report


def run_exits(ctx, name, seconds=3):
    """The healthy program runs a few seconds and shuts down cleanly."""
    report = Report(name + "-exits")
    m = manifest.load(ctx.examples_src, name)
    try:
        r = subprocess.run([ctx.exe(name), str(seconds)], capture_output=True,
                           text=True, timeout=seconds + 30, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        report.check("exits within %d s" % (seconds + 30), ["still running"])
        return report
    report.check("exit status 0", [] if r.returncode == 0 else
                 ["status %s, stderr: %s" % (r.returncode, r.stderr[-2000:])])
    report.check("prints exactly its line", [] if r.stdout == m["line"] + "\n"
                 else ["stdout: %r" % r.stdout])
    report.lines.append("stderr: " + r.stderr.strip()[-500:])
    return report


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", required=True, help="the CMake build folder")
    p.add_argument("--source", default=os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..", ".."), help="the source tree")
    p.add_argument("--tangle", help="the tangle CLI (default BUILD/inspect/tangle)")
    p.add_argument("--gdb", help="enable the gdb checks with this script")
    p.add_argument("--lldb", help="enable the lldb checks with this script")
    p.add_argument("--keep", action="store_true", help="keep cores of passed runs")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--dump", choices=["kernel", "gcore"],
                   help="how to dump (default: the kernel where it can, else gcore)")
    p.add_argument("what", choices=["example", "signatures", "all", "exits"])
    p.add_argument("name", nargs="?")
    opts = p.parse_args()
    ctx = Context(opts)
    if opts.what != "exits" and not os.path.exists(ctx.cli.path):
        print("e2e: no tangle CLI at %s" % ctx.cli.path, file=sys.stderr)
        return 2
    started = time.monotonic()
    if opts.what == "example":
        if not opts.name:
            p.error("example needs a NAME")
        label = opts.name + ("-" + opts.dump if opts.dump else "")
        reports = [run_example(ctx, opts.name, label)[0]]
    elif opts.what == "exits":
        reports = [run_exits(ctx, opts.name or "healthy-server")]
    elif opts.what == "signatures":
        reports = [run_signatures(ctx, opts.jobs)]
    else:
        with concurrent.futures.ThreadPoolExecutor(opts.jobs) as pool:
            reports = [r for r, _ in pool.map(lambda n: run_example(ctx, n),
                                              example_names(ctx))]
        reports.append(run_signatures(ctx, opts.jobs))
    for r in reports:
        print(r.text())
    failed = [r.label for r in reports if r.failed]
    print("e2e: %s in %.1f s" % ("FAILED: " + ", ".join(failed) if failed else "passed",
                                 time.monotonic() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
