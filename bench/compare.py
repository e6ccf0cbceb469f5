#!/usr/bin/env python3
"""Build tangle's benchmarks, tokio's and Go's, run them side by side, print a table.

    bench/compare.py [--rounds 5] [--reps 3] [--target-ms 200] [--no-go] [filter ...]

Builds (unless --no-build) the C benchmarks in BUILD (default build-bench/,
CMake Release) as tangle-bench (debug table on) and tangle-bench-nodebug
(off), bench/peers/tokio offline with cargo into BUILD/tokio and, when `go`
is on PATH (Debian: apt-get install golang-go) and --no-go is not given,
bench/peers/go offline with `go build` into BUILD/go. Then, for each round
and each benchmark, runs the programs one after the other (in a rotating
order, so none is always first) and keeps each run's median ns/op. The table
shows, per benchmark, the median over rounds of those medians: tangle,
tangle without the table, the table's cost, tokio, tokio/tangle (> 1:
tangle is faster), go and go/tangle (the same). Without `go` the last two
columns are left out. This machine's timing drifts by 10-20% over seconds
(a shared VM), hence short runs, rotation and rounds.

The table's cost comes from tangle-bench-ab (bench/ab.c), which links both
builds of libtangle into one program and alternates their runs: the median
over --ab-rounds pairs of on/off - 1, with its quartiles. Two programs run
one after the other see the machine drift between them by as much as the
cost; two runs in one program, 50 ms apart, do not.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOKIO_DIR = os.path.join(HERE, "peers", "tokio")
GO_DIR = os.path.join(HERE, "peers", "go")
LINE = re.compile(r"^bench (\S+) median_ns=([\d.]+) min_ns=([\d.]+) reps=(\d+) iters=(\d+)$")
AB_LINE = re.compile(r"^ab (\S+) on_ns=([\d.]+) off_ns=([\d.]+) cost_pct=([-+\d.]+) "
                     r"q1_pct=([-+\d.]+) q3_pct=([-+\d.]+) ")
TIMEOUT_S = 60  # per program run; a run far slower than calibrated is a result too


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build(build_dir, build_type):
    log(f"== building tangle's benchmarks in {build_dir} ({build_type})")
    subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, f"-DCMAKE_BUILD_TYPE={build_type}",
                    "-DTANGLE_BUILD_BENCH=ON", "-DTANGLE_BUILD_TESTS=OFF",
                    "-DTANGLE_BUILD_EXAMPLES=OFF", "-DTANGLE_BUILD_INSPECT=OFF",
                    "-DTANGLE_SANITIZE="], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build_dir, "-j2", "--target",
                    "tangle_bench", "tangle_bench_nodebug", "tangle_bench_ab"],
                   check=True, stdout=sys.stderr)
    log("== building tokio's benchmarks (offline, release)")
    # cargo reads bench/peers/tokio/.cargo/config.toml (the offline source
    # replacement) because it runs from that directory.
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(build_dir, "tokio"))
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=TOKIO_DIR, env=env,
                   check=True)


def go_program(build_dir):
    return os.path.join(build_dir, "go", "tangle-peer-go")


def build_go(build_dir):
    log("== building Go's benchmarks (offline, standard library only)")
    # No module requirements: nothing to download; GOPROXY=off makes sure.
    env = dict(os.environ, GOFLAGS="-mod=mod", GOPROXY="off",
               GOCACHE=os.path.join(build_dir, "go", "cache"))
    subprocess.run(["go", "build", "-o", go_program(build_dir), "."], cwd=GO_DIR, env=env,
                   check=True)


def programs(build_dir, with_go):
    progs = {
        "tangle": [os.path.join(build_dir, "bench", "tangle-bench")],
        "nodebug": [os.path.join(build_dir, "bench", "tangle-bench-nodebug")],
        "tokio": [os.path.join(build_dir, "tokio", "release", "tangle-peer-tokio")],
    }
    if with_go:
        progs["go"] = [go_program(build_dir)]
    return progs


def listing(cmd):
    return subprocess.run(cmd + ["--list"], check=True, capture_output=True,
                          text=True).stdout.split()


def bench_names(progs, filters):
    return [n for n in listing(progs["tangle"]) if not filters or any(f in n for f in filters)]


PIN = []  # taskset prefix for one-thread benchmarks (main sets it)


def pin_cmd(name):
    """One-thread benchmarks run pinned (taskset) to one CPU: migrations
    between the cores spread their times by more than the table costs."""
    return [] if name.endswith("_mt") else PIN


def run_one(cmd, name, env):
    """One run of one benchmark: (median, min) ns/op, or None if it failed."""
    try:
        proc = subprocess.run(cmd + [name], capture_output=True, text=True, env=env,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        log(f"   {os.path.basename(cmd[0])} {name}: no result (over {TIMEOUT_S} s)")
        return None
    for line in proc.stdout.splitlines():
        m = LINE.match(line)
        if m and m.group(1) == name:
            return float(m.group(2)), float(m.group(3))
    log(f"   {os.path.basename(cmd[0])} {name}: no result (exit {proc.returncode}) "
        f"{proc.stderr.strip()[-300:]}")
    return None


def table_costs(build_dir, names, args):
    """{name: (cost %, q1 %, q3 %)} from tangle-bench-ab (bench/ab.c)."""
    prog = os.path.join(build_dir, "bench", "tangle-bench-ab")
    if not os.path.exists(prog):
        log(f"== no table cost: {prog} is not built")
        return {}
    cmd = [prog, "--rounds", str(args.ab_rounds)] + (["--no-pin"] if args.no_pin else [])
    env = dict(os.environ, BENCH_WORKERS=str(args.workers))
    out = {}
    for name in names:
        log(f"   table cost {name}: {args.ab_rounds} alternating pairs")
        try:
            proc = subprocess.run(cmd + [name], capture_output=True, text=True, env=env,
                                  timeout=TIMEOUT_S * 4)
        except subprocess.TimeoutExpired:
            log(f"   {name}: tangle-bench-ab timed out")
            continue
        for line in proc.stdout.splitlines():
            m = AB_LINE.match(line)
            if m and m.group(1) == name:
                out[name] = (float(m.group(4)), float(m.group(5)), float(m.group(6)))
    return out


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fmt(x, spec="{:.1f}"):
    return "-" if x is None else spec.format(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("filters", nargs="*", help="run only benchmarks whose name contains one")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--build-type", default="Release")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3, help="runs per program invocation")
    ap.add_argument("--target-ms", type=int, default=200, help="duration of one run")
    ap.add_argument("--workers", type=int, default=2, help="workers of the _mt runtimes")
    ap.add_argument("--no-go", action="store_true", help="leave Go's benchmarks out")
    ap.add_argument("--json", help="also write every measurement to this file")
    ap.add_argument("--no-pin", action="store_true",
                    help="do not pin the one-thread benchmarks to the last CPU")
    ap.add_argument("--ab-rounds", type=int, default=20,
                    help="alternating pairs per benchmark for the table's cost")
    args = ap.parse_args()

    build_dir = os.path.abspath(args.build_dir)
    with_go = not args.no_go and shutil.which("go") is not None
    if not args.no_go and not with_go:
        log("== no Go column: `go` is not on PATH (apt-get install golang-go)")
    if not args.no_build:
        build(build_dir, args.build_type)
        if with_go:
            build_go(build_dir)
    if with_go and not os.path.exists(go_program(build_dir)):
        log(f"== no Go column: {go_program(build_dir)} is not built (run without --no-build)")
        with_go = False
    progs = programs(build_dir, with_go)
    variants = tuple(progs)
    names = bench_names(progs, args.filters)
    env = dict(os.environ, BENCH_REPS=str(args.reps), BENCH_TARGET_MS=str(args.target_ms),
               BENCH_WORKERS=str(args.workers))

    global PIN
    ncpu = os.cpu_count() or 1
    if not args.no_pin and ncpu > 1 and shutil.which("taskset"):
        PIN = ["taskset", "-c", str(ncpu - 1)]
    load_before = os.getloadavg()
    started = time.time()
    has = {v: set(listing(progs[v])) for v in variants}
    runs = {n: {v: [] for v in variants} for n in names}
    for r in range(args.rounds):
        for i, name in enumerate(names):
            k = (r + i) % len(variants)
            for variant in variants[k:] + variants[:k]:
                if name not in has[variant]:
                    continue
                res = run_one(pin_cmd(name) + progs[variant], name, env)
                if res:
                    runs[name][variant].append(res)
            log(f"   round {r + 1}/{args.rounds} {name}: " + "  ".join(
                f"{v}={runs[name][v][-1][0]:.1f}" if runs[name][v] else f"{v}=-"
                for v in variants))
    ab = table_costs(build_dir, names, args)
    load_after = os.getloadavg()

    def med(name, variant):
        xs = [m for m, _ in runs[name][variant]]
        return statistics.median(xs) if xs else None


    print(f"# {cpu_model()}, nproc {os.cpu_count()}, {platform.system()} "
          f"{platform.release()}")
    print(f"# {args.rounds} rounds x {args.reps} runs of ~{args.target_ms} ms per program and "
          f"benchmark; _mt = {args.workers} workers; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after, "
          f"{time.time() - started:.0f} s"
          + (f"; one-thread benchmarks pinned to CPU {PIN[-1]}" if PIN else ""))
    print("# ns/op: median over rounds of each run's median; table cost: tangle-bench-ab, "
          f"median of {args.ab_rounds} in-process on/off pairs - 1 (quartiles)")
    header = ["benchmark", "tangle", "no table", "table cost", "(quartiles)", "tokio",
              "tokio/tangle"] + (["go", "go/tangle"] if with_go else [])
    rows = []
    for name in names:
        on, off, tk = med(name, "tangle"), med(name, "nodebug"), med(name, "tokio")
        cost = ab.get(name)
        rows.append([name, fmt(on), fmt(off),
                     fmt(cost and cost[0], "{:+.1f}%"),
                     f"{cost[1]:+.1f}..{cost[2]:+.1f}%" if cost else "-",
                     fmt(tk), fmt(None if on is None or tk is None else tk / on, "{:.2f}x")])
        if with_go:
            go = med(name, "go")
            rows[-1] += [fmt(go), fmt(None if on is None or go is None else go / on, "{:.2f}x")]
    widths = [max(len(str(row[c])) for row in [header] + rows) for c in range(len(header))]
    for j, row in enumerate([header] + rows):
        cells = [str(c).ljust(w) if k == 0 else str(c).rjust(w)
                 for k, (c, w) in enumerate(zip(row, widths))]
        print("| " + " | ".join(cells) + " |")
        if j == 0:
            print("|" + "|".join("-" * (w + 1) + (":" if k else "-")
                                 for k, w in enumerate(widths)) + "|")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": cpu_model(), "nproc": os.cpu_count(),
                       "load": [load_before, load_after], "rounds": args.rounds,
                       "reps": args.reps, "target_ms": args.target_ms,
                       "workers": args.workers, "runs": runs, "table_cost": ab}, f,
                      indent=1)
    return 0 if all(runs[n][v] for n in names for v in variants if n in has[v]) else 1


if __name__ == "__main__":
    sys.exit(main())
