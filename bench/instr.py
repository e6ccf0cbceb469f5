#!/usr/bin/env python3
"""Instructions per operation, under valgrind's callgrind: noise-free figures.

    bench/instr.py [--build-dir build-bench] [--hot N] [--lines N] [filter ...]

Timing on this VM drifts by 10-20%, too much to see a 5% cost directly, but
instruction counts do not drift. For each benchmark and each program
(tangle-bench, tangle-bench-nodebug, tokio) this runs the benchmark under
callgrind twice, with BENCH_ITERS=n1 and n2, and divides the difference by
n2 - n1: the fixed costs (start-up, runtime creation) cancel out, leaving
the instructions of one operation. With --hot N it also lists, per
benchmark, the N functions with the most instructions per operation in
tangle-bench, next to the same function in tangle-bench-nodebug: where the
table's cost goes, and where the time goes; with --lines N, the N source
lines of runtime/ whose instruction count the table changes most (inlined
code is charged to its own line). Run bench/compare.py first (it
builds the programs); this script does not build.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from compare import programs, bench_names, listing, log  # noqa: E402

VARIANTS = ("tangle", "nodebug", "tokio")


def callgrind(cmd, name, iters, outdir, tag):
    """Run once under callgrind; return parse() of its output."""
    out = os.path.join(outdir, f"{tag}.{iters}.out")
    env = dict(os.environ, BENCH_ITERS=str(iters), BENCH_REPS="1")
    proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                           "--dump-instr=no", "--compress-strings=no", "--compress-pos=no"]
                          + cmd + [name], env=env, capture_output=True, text=True)
    if proc.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f"{tag}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return parse(out)


def parse(path):
    """Self cost per function and per source line from a callgrind file
    written uncompressed: ({fn: Ir}, {(file, line): Ir}, total Ir). A cost
    line counts for the current fn= and file (fl=, or fi=/fe= for inlined
    code), except the line after calls=: the inclusive cost of that call."""
    by_fn, by_line, fn, fl, fi, total, after_call = {}, {}, None, None, None, 0, False
    with open(path) as f:
        for line in f:
            c = line[:1]
            if c.isdigit() or c in "+-*":
                if after_call:
                    after_call = False
                    continue
                parts = line.split()
                if len(parts) >= 2 and fn is not None:
                    ir = int(parts[1])
                    by_fn[fn] = by_fn.get(fn, 0) + ir
                    key = (fi or fl, int(parts[0]) if parts[0].isdigit() else 0)
                    by_line[key] = by_line.get(key, 0) + ir
            elif line.startswith("fn="):
                # fn'2: the same function entered again on another stack
                fn = re.sub(r"'\d+$", "", line[3:].strip())
                fi = None
            elif line.startswith("fl="):
                fl, fi = line[3:].strip(), None
            elif line.startswith(("fi=", "fe=")):
                fi = line[3:].strip()
                fi = None if fi == fl else fi
            elif line.startswith("calls="):
                after_call = True
            elif line.startswith(("summary:", "totals:")):
                total = int(line.split()[1])
    return by_fn, by_line, total


def per_op(a, b, n):
    return {k: (b.get(k, 0) - a.get(k, 0)) / n for k in set(a) | set(b)}


def source_line(path, line):
    try:
        with open(path) as f:
            for i, text in enumerate(f, 1):
                if i == line:
                    return text.strip()
    except OSError:
        pass
    return ""


def short(fn):
    return fn if len(fn) <= 100 else fn[:97] + "..."


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("filters", nargs="*")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--iters", type=int, nargs=2, default=[2000, 22000], metavar=("N1", "N2"))
    ap.add_argument("--hot", type=int, default=0, help="list the N hottest functions")
    ap.add_argument("--lines", type=int, default=0,
                    help="list the N runtime source lines that the table costs most")
    args = ap.parse_args()

    progs = programs(os.path.abspath(args.build_dir), with_go=False)
    names = bench_names(progs, args.filters)
    n1, n2 = args.iters
    has = {v: set(listing(progs[v])) for v in VARIANTS}
    rows, hot, lines = [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            per_op_ir, fns, lns = {}, {}, {}
            for v in VARIANTS:
                if name not in has[v]:
                    per_op_ir[v] = None
                    continue
                try:
                    a_fn, a_ln, a = callgrind(progs[v], name, n1, tmp, f"{v}.{name}")
                    b_fn, b_ln, b = callgrind(progs[v], name, n2, tmp, f"{v}.{name}")
                except RuntimeError as e:
                    log(f"   {name}: {e}")
                    per_op_ir[v] = None
                    continue
                per_op_ir[v] = (b - a) / (n2 - n1)
                fns[v] = per_op(a_fn, b_fn, n2 - n1)
                lns[v] = per_op(a_ln, b_ln, n2 - n1)
            log(f"   {name}: " + "  ".join(
                f"{v}={per_op_ir[v]:.0f}" if per_op_ir[v] is not None else f"{v}=-"
                for v in VARIANTS))
            rows.append((name, per_op_ir))
            hot[name] = fns
            lines[name] = lns

    print(f"# instructions per operation (callgrind, ({n2} - {n1}) iterations)")
    header = ["benchmark", "tangle", "no table", "table cost", "tokio", "tokio/tangle"]
    table = [header]
    for name, p in rows:
        on, off, tk = p.get("tangle"), p.get("nodebug"), p.get("tokio")
        table.append([name, "-" if on is None else f"{on:.0f}",
                      "-" if off is None else f"{off:.0f}",
                      "-" if not (on and off) else f"{(on / off - 1) * 100:+.1f}%",
                      "-" if tk is None else f"{tk:.0f}",
                      "-" if not (on and tk) else f"{tk / on:.2f}x"])
    widths = [max(len(r[c]) for r in table) for c in range(len(header))]
    for j, r in enumerate(table):
        print("| " + " | ".join(c.ljust(w) if k == 0 else c.rjust(w)
                                for k, (c, w) in enumerate(zip(r, widths))) + " |")
        if j == 0:
            print("|" + "|".join("-" * (w + 1) + (":" if k else "-")
                                 for k, w in enumerate(widths)) + "|")

    for name in names if args.hot else []:
        on, off = hot[name].get("tangle", {}), hot[name].get("nodebug", {})
        print(f"\n## {name}: hottest functions, self instructions per operation")
        print(f"{'tangle':>8} {'no table':>8} {'diff':>6}  function")
        for f in sorted(on, key=lambda f: -on[f])[:args.hot]:
            if on[f] < 0.5:
                break
            print(f"{on[f]:8.1f} {off.get(f, 0):8.1f} {on[f] - off.get(f, 0):+6.1f}  {short(f)}")
    for name in names if args.lines else []:
        on, off = lines[name].get("tangle", {}), lines[name].get("nodebug", {})
        runtime = os.path.join(ROOT, "runtime") + os.sep
        diff = {k: on.get(k, 0) - off.get(k, 0) for k in set(on) | set(off)
                if k[0] and k[0].startswith(runtime)}
        total = sum(diff.values())
        print(f"\n## {name}: the table's cost by source line, instructions per operation "
              f"(all runtime lines: {total:+.1f})")
        for (path, ln) in sorted(diff, key=lambda k: -abs(diff[k]))[:args.lines]:
            if abs(diff[(path, ln)]) < 0.5:
                break
            rel = os.path.relpath(path, ROOT)
            print(f"{diff[(path, ln)]:+6.1f}  {rel}:{ln}  {source_line(path, ln)[:70]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
