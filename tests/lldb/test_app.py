"""Every tangle command in lldb on a real core dump and on a live process of
lldb_app (sleeper, parker with a lost waker, joiner, main), tasks as lldb
threads with their own frames and variables, and `triage --json` identical
to the CLI's on the same core."""

import os
import re
import subprocess

from lldbtest import Env, section

env = Env()
exe = env.program("lldb_app")
core = env.core("lldb_app", ready="ready")

HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "select_function.py")
COMMANDS = [
    "command script import " + HELPER,
    "tangle tasks", "tangle tasks --group", "tangle tasks --state waiting --name sl*",
    "tangle bt all", "tangle bt 2 3", "tangle locks", "tangle why 3", "tangle deadlocks",
    "tangle triage", "tangle triage --json", "tangle graph {graph} --stuck-ms 100",
    "tangle graph --stuck-ms 100", "tangle graph --held-ms 5", "tangle tasks --help",
    "help tangle tasks",
    "thread list", "tangle task 2", "frame variable", "bt", "select-function nap",
    "frame variable", "tangle task 3", "select-function wait_signal", "frame variable",
    "tangle task 99",
]


def check_commands(out, where, graph):
    tasks = section(out, "tangle tasks")
    env.expect(tasks, r"^ID\s+STATE\s+FOR\s+WAIT", where + ": tasks table")
    for row in (r"^1\s+waiting .*join task 4 \"joiner\".*main_task\s+main$",
                r"^2\s+waiting .*sleep\s+lldb_app\.c:21 nap\s+sleeper$",
                r"^3\s+waiting .*park \"the config reload signal\".*wait_signal\s+parker$",
                r"^4\s+waiting .*join task 2 \"sleeper\".*await_sleeper\s+joiner$"):
        env.expect(tasks, row, where + ": tasks row " + row)
    group = section(out, "tangle tasks --group")
    env.expect(group, r"^COUNT\s+STATE\s+LONGEST", where + ": --group")
    for row in (r"^1\s+waiting\s+\S+\s+join\s+lldb_app\.c:74 main_task$",
                r"^1\s+waiting\s+\S+\s+sleep\s+lldb_app\.c:21 nap$",
                r"^1\s+waiting\s+\S+\s+park \"the config reload signal\"\s+lldb_app\.c:38 "
                r"wait_signal$",
                r"^1\s+waiting\s+\S+\s+join\s+lldb_app\.c:53 await_sleeper$"):
        env.expect(group, row, where + ": --group row " + row)
    env.check(len(group.strip().splitlines()) == 5, where + ": --group: 4 sites, 4 rows", group)
    filtered = section(out, "tangle tasks --state waiting --name sl*")
    env.expect(filtered, r"sleeper$", where + ": filters keep the sleeper")
    env.expect_not(filtered, r"parker|joiner", where + ": filters drop the others")

    bt = section(out, "tangle bt all")
    env.expect(bt, r"task 2 \"sleeper\".*\n  #0 nap at lldb_app\.c:21\s+<- awaiting sleep\n"
               r"  #1 sleeper_main at lldb_app\.c:29", where + ": bt of the sleeper (lldb frames)")
    env.expect(bt, r"task 3 \"parker\".*\n  #0 wait_signal at lldb_app\.c:38\s+<- awaiting park",
               where + ": bt of the parker")
    env.expect(bt, r"task 4 \"joiner\".*\n  #0 await_sleeper at lldb_app\.c:53",
               where + ": bt of the joiner")
    two = section(out, "tangle bt 2 3")
    env.expect(two, r"task 2 \"sleeper\"", where + ": bt ID ID")
    env.expect_not(two, r"task 4", where + ": bt of the given ids only")
    locks = section(out, "tangle locks")
    env.expect(locks, r"^KIND\s+NAME\s+STATE", where + ": locks")
    env.check(len(locks.strip().splitlines()) == 1, where + ": locks: lldb_app has none", locks)
    env.expect(section(out, "tangle why 3"),
               r"task 3 \"parker\" is parked .* on \"the config reload signal\"",
               where + ": why")
    env.expect(section(out, "tangle deadlocks"), r"^0 deadlocks among 4 tasks",
               where + ": deadlocks")
    triage = section(out, "tangle triage")
    env.expect(triage, r"^LOST-WAKER\s+task 3 \"parker\"", where + ": triage finding")
    env.expect(triage, r"#0 wait_signal at lldb_app\.c:38", where + ": triage backtrace")
    env.expect(section(out, "tangle triage --json"), r'"kind": "lost-waker"',
               where + ": triage --json")
    env.expect(section(out, "tangle graph %s --stuck-ms 100" % graph),
               r"wrote the wait-for graph to", where + ": graph FILE OPTIONS")
    env.expect(section(out, "tangle graph --stuck-ms 100"), r"^digraph tangle \{",
               where + ": graph without FILE prints it")
    env.expect(section(out, "tangle graph --held-ms 5"), r"^digraph tangle \{",
               where + ": an option's value is not FILE")
    env.check(not os.path.exists(os.path.join(env.work, "5")),
              where + ": graph --held-ms 5 wrote no file named 5")
    try:
        with open(graph) as f:
            dot = f.read()
        env.expect(dot, r"^digraph tangle \{", where + ": the file holds DOT")
        env.expect(dot, r"t4 -> t2", where + ": the join edge")
    except OSError as e:
        env.check(False, where + ": graph file", str(e))
    env.expect(section(out, "tangle tasks --help"), r"tasks \[--state", where + ": --help")
    env.expect(section(out, "help tangle tasks"), r"--group", where + ": lldb help")

    # Tasks as threads, with their own frames and variables.
    tl = section(out, "thread list")
    env.expect(tl, r"tid = [12]000000000002, .*name = 'task 2 sleeper', queue = 'sleep'",
               where + ": the sleeper is a thread")
    env.expect(tl, r"name = 'task 3 parker', queue = 'park \"the config reload signal\"'",
               where + ": the parker is a thread")
    env.expect(tl, r"^\* thread #1: tid = \d+, .*name = 'lldb_app'", where + ": real threads first")
    picked = section(out, "tangle task 2")
    env.expect(picked, r"^\* thread #\d+, name = 'task 2 sleeper'",
               where + ": tangle task selects the thread")
    env.expect(picked, r"^frame #\d+: .*lldb_app`nap\(seconds=3600\) at lldb_app\.c:21",
               where + ": tangle task selects the first frame outside the runtime")
    env.expect(section(out, "frame variable"), r"\(volatile int\) rounds = 7",
               where + ": tangle task: frame variable shows the task's own at once")
    tbt = section(out, "bt")
    env.expect(tbt, r"^  \* frame #\d+: .* lldb_app`nap\(", where + ": bt: nap is selected")
    env.expect(tbt, r"frame #\d+: .* lldb_app`nap\(seconds=3600\) at lldb_app\.c:21.*\n"
               r".*frame #\d+: .* lldb_app`sleeper_main", where + ": lldb's bt of the task")
    env.expect(tbt, r"tangle__ctx_entry", where + ": down to the entry trampoline")
    fv = section(out[out.find("(lldb) select-function nap"):], "frame variable")
    env.expect(fv, r"\(volatile int\) rounds = 7", where + ": a local of the task's frame")
    env.expect(fv, r"\(int\) seconds = 3600", where + ": an argument of the task's frame")
    rest = out[out.find("(lldb) tangle task 3"):]
    env.expect(section(rest, "frame variable"), r"\(volatile int\) attempts = 3",
               where + ": the parker's local")
    env.expect(section(out, "tangle task 99"), r"^error: tangle: no task 99", where + ": no task")
    env.expect_not(out, r"Traceback", where + ": no Python traceback")


# A core.
graph = os.path.join(env.work, "core.dot")
core_out = env.lldb([c.format(graph=graph) for c in COMMANDS], [exe, "-c", core], name="core")
check_commands(core_out, "core", graph)

# Task threads off: lldb's thread list has only the real threads, yet the
# engine's backtraces and `tangle task` still get lldb's frames (a thread is
# made for the one task asked about).
out = env.lldb(["tangle threads off", "thread list", "tangle bt 2", "tangle threads off",
                "tangle bt 3", "tangle task 2", "bt",
                "command script import " + HELPER, "select-function nap", "frame variable",
                "tangle threads on", "thread list"],
               [exe, "-c", core], name="threads-off")
env.expect(section(out, "tangle threads off"), r"task threads are off", "off: says so")
env.expect_not(section(out, "thread list"), r"task \d", "off: no task threads listed")
env.expect(section(out, "tangle bt 2"), r"#0 nap at lldb_app\.c:21\s+<- awaiting sleep",
           "off: tangle bt still has lldb's frames")
env.expect(section(out, "tangle bt 3"), r"#0 wait_signal at lldb_app\.c:38",
           "off: after a plugin reload, another task's frames (not the thread made before)")
env.expect(section(out, "tangle task 2"), r"name = 'task 2 sleeper'",
           "off: tangle task makes the task's thread")
env.expect(section(out, "bt"), r"lldb_app`nap\(seconds=3600\)", "off: bt of that thread")
env.expect(section(out, "frame variable"), r"\(volatile int\) rounds = 7",
           "off: its variables")
env.expect(out[out.rfind("(lldb) thread list"):], r"name = 'task 3 parker'",
           "on again: the tasks are listed")
env.expect_not(out, r"Traceback", "off: no Python traceback")

# The same bytes as the CLI on the same core.
if env.cli:
    cli = subprocess.run([env.cli, "triage", "--json", core, exe], capture_output=True,
                         text=True, timeout=60)
    mine = section(core_out, "tangle triage --json")
    env.check(cli.returncode == 1, "cli: triage exits 1 (a finding)", cli.stderr)
    env.check(mine == cli.stdout, "core: triage --json is the CLI's, byte for byte",
              "lldb:\n%s\ncli:\n%s" % (mine, cli.stdout))

# A live process, the module loaded before the attach (as from ~/.lldbinit):
# the task threads are there at once (the plugin reloads itself once the
# attach has loaded libtangle).
proc = env.start("lldb_app", ready="ready")
graph = os.path.join(env.work, "live.dot")
out = env.lldb(["thread list"] + [c.format(graph=graph) for c in COMMANDS],
               ["-p", str(proc.pid)], name="live", preload=True)
first = section(out, "thread list")
env.expect(first, r"name = 'task 2 sleeper', queue = 'sleep'",
           "live: the first thread list after the attach has the tasks (no tangle command yet)")
env.expect_not(out, r"Traceback|NotReady", "live: the plugin's retries are silent")
out = out.replace("(lldb) thread list\n", "(lldb) first thread list\n", 1)
check_commands(out, "live", graph)

# lldb's own `thread select N` on a task thread of this program (N from the
# thread list of the same core).
out = env.lldb(["thread list"], [exe, "-c", core], name="numbers")
number = re.search(r"thread #(\d+): tid = \d+, .*name = 'task 3 parker'", out)
if env.check(number is not None, "thread select: task 3 is listed", out):
    n = number.group(1)
    out = env.lldb(["thread select " + n, "bt", "command script import " + HELPER,
                    "select-function wait_signal", "frame variable"], [exe, "-c", core],
                   name="thread-select")
    env.expect(section(out, "thread select " + n),
               r"^\* thread #%s, name = 'task 3 parker', queue = 'park" % n,
               "thread select N: the task's thread")
    env.expect(section(out, "bt"), r"lldb_app`wait_signal\(.*\n.*lldb_app`parker_main",
               "thread select N: lldb's bt of the task")
    env.expect(section(out, "frame variable"), r"\(volatile int\) attempts = 3",
               "thread select N: the task's local")
env.finish()
