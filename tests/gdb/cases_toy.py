"""gdb tests on the toy (toy_tasks.c: a hand-made stack switch) with the fake
engine, and the messages for a missing engine: no runtime needed."""

import os
import re
import shutil

from gdbharness import (ARGS, Failure, case, expect, fake_env, gdb, make_core,
                        mark, reject, section, workdir)

# ---- The unwinder bridge on the toy (no runtime needed) -------------------

TOY_TASK_BT = [r"^#1 .* in toy_leaf \(.*depth=(\d+|<optimized out>)\) at .*toy_tasks\.c:\d+",
               r"^#2 .* in toy_middle \(.*\) at .*toy_tasks\.c:\d+",
               r"^#3 .* in toy_body \(.*\) at .*toy_tasks\.c:\d+"]


def check_toy_task(out):
    bt = section(out, "@@bt", "@@locals")
    expect(bt, *TOY_TASK_BT)
    reject(bt, r"toy_ready", r"^#0 ", r" in main \(")
    expect(section(out, "@@locals", "@@up"), r"^leaf_marker = 1002$",
           r"^leaf_depth = 15$")
    expect(section(out, "@@up", "@@down"), r"^#2 .* toy_middle",
           r"^middle_var = 14$")
    expect(section(out, "@@down", "@@frame3"), r"^#1 .* toy_leaf",
           r"^\$1 = 1002$")
    expect(section(out, "@@frame3", "@@none"), r"^#3 .* toy_body")
    after = section(out, "@@none")
    expect(after, r"^#0 +toy_ready \(\) at", r"^#1 .* in main \(")
    reject(after, r"toy_leaf")


TOY_TASK_COMMANDS = [
    "tangle task 2", mark("bt"), "bt", mark("locals"), "info locals",
    mark("up"), "up", "info locals", mark("down"), "down",
    "print leaf_marker", mark("frame3"), "frame 3", mark("none"),
    "tangle task none", "bt"]


@case
def toy_task_live(_):
    out = gdb(["break toy_ready", "run"] + TOY_TASK_COMMANDS, ARGS["toy"],
              env=fake_env())
    expect(out, r'^\[Switching to task 2 "toy-two" \(toy wait 1\)\]')
    check_toy_task(out)


@case
def toy_task_core(_):
    core = make_core(ARGS["toy"], "toy_ready", "toy.core")
    out = gdb(TOY_TASK_COMMANDS, ARGS["toy"], core, env=fake_env())
    check_toy_task(out)


@case
def toy_bridge_hidden_only_in_bt(_):
    out = gdb(["break toy_ready", "run", "tangle task 1", mark("raw"),
               "bt -no-filters", mark("info"), "info frame",
               mark("sel"), "tangle task"], ARGS["toy"], env=fake_env())
    expect(section(out, "@@raw", "@@info"), r"^#0 +toy_ready",
           r"^#1 .* toy_leaf")
    expect(section(out, "@@info", "@@sel"), r"Stack level 1, frame at")
    expect(section(out, "@@sel"),
           r'^\[Current task is 1 "toy-one" \(toy wait 0\)\]')


@case
def toy_resume_clears_task(_):
    out = gdb(["break toy_ready", "run", "tangle task 1", "continue",
               mark("after"), "tangle task", "bt"], ARGS["toy"],
              env=fake_env(), args=("abort",))
    after = section(out, "@@after")
    expect(after, r"^No task selected\.", r"^#\d+ .* in main \(")
    reject(after, r"toy_leaf")


@case
def toy_apply(_):
    out = gdb(["break toy_ready", "run", "frame 1", mark("all"),
               "tangle apply all info locals", mark("q"),
               "tangle apply -q 2 print middle_var", mark("c"),
               "tangle apply -c 1 2 print nosuchvar", mark("s"),
               "tangle apply -s all print nosuchvar", mark("end"), "frame"],
              ARGS["toy"], env=fake_env())
    expect(section(out, "@@all", "@@q"),
           r'^Task 1 "toy-one" \(toy wait 0\):\nleaf_marker = 1001$',
           r'^Task 2 "toy-two" \(toy wait 1\):\nleaf_marker = 1002$')
    q = section(out, "@@q", "@@c")
    reject(q, r"^Task ")
    expect(section(out, "@@c", "@@s"), r'^Task 1 .*\n.*No symbol "nosuchvar"',
           r'^Task 2 .*\n.*No symbol "nosuchvar"')
    reject(section(out, "@@s", "@@end"), r"Task|nosuchvar")
    # The selection before apply is back: frame 1 of the main thread.
    expect(section(out, "@@end"), r"^#1 .* in main \(")


@case
def toy_engine_callbacks(_):
    core = make_core(ARGS["toy"], "toy_ready", "toy-cb.core")
    py = ("python gdb.execute('tangle read %d 4096' % "
          "int(gdb.parse_and_eval('(long)toy_edge')))")
    thread = ("python gdb.execute('tangle thread %d' % "
              "gdb.selected_thread().ptid[1])")
    for kind in ("live", "core"):
        if kind == "live":
            out = gdb(["break toy_ready", "run", mark("bt"), "tangle bt",
                       mark("thr"), thread, mark("read"), py, mark("now"),
                       "tangle now"], ARGS["toy"], env=fake_env())
        else:
            out = gdb([mark("bt"), "tangle bt", mark("thr"), thread,
                       mark("read"), py, mark("now"), "tangle now"],
                      ARGS["toy"], core, env=fake_env())
        bt = section(out, "@@bt", "@@thr")
        expect(bt, r'^task 1 "toy-one": 4 frames\n  #0 toy_leaf at '
               r'toy_tasks\.c:\d+\n  #1 toy_middle at toy_tasks\.c:\d+\n'
               r'  #2 toy_body at toy_tasks\.c:\d+\n  #3 toy_entry at '
               r'toy_context\.S:\d+$')
        expect(section(out, "@@thr", "@@read"),
               r"^thread \d+: 2 frames\n  #0 toy_ready at toy_tasks\.c:\d+\n"
               r"  #1 main at toy_tasks\.c:\d+$")
        expect(section(out, "@@read", "@@now"), r"^read 100$")
        now = section(out, "@@now")
        if kind == "live":
            expect(now, r"^now 1 \d+ torn 0 target pid \d+ \(%s\)$"
                   % re.escape(os.path.realpath(ARGS["toy"])))
        else:
            mtime = os.stat(core).st_mtime_ns
            expect(now, r"^now 2 %d torn 0 target %s \(%s\)$"
                   % (mtime, re.escape(core), re.escape(ARGS["toy"])))


@case
def toy_printers_and_functions(_):
    out = gdb(["break toy_ready", "run", mark("ptr"), "print toy_task_ptr",
               mark("fn"), "print $tangle_task(1)", mark("cur"),
               "tangle task 2", "print $tangle_current_task()", mark("none"),
               "tangle task none", "print $tangle_current_task()",
               mark("bad"), "print $tangle_task(99)", mark("off"),
               "disable pretty-printer global tangle;tangle_task",
               "print toy_task_ptr"], ARGS["toy"], env=fake_env())
    expect(section(out, "@@ptr", "@@fn"),
           r'^\$1 = 0x[0-9a-f]+ task 2 "toy-two" waiting: toy wait 1$')
    expect(section(out, "@@fn", "@@cur"),
           r'^\$2 = 0x[0-9a-f]+ task 1 "toy-one" waiting: toy wait 0$')
    expect(section(out, "@@cur", "@@none"), r'^\$3 = 0x[0-9a-f]+ task 2 ')
    expect(section(out, "@@none", "@@bad"), r"^\$4 = \(tangle_task \*\) 0x0$")
    expect(section(out, "@@bad", "@@off"), r"^tangle: no task 99$")
    expect(section(out, "@@off"), r"^\$5 = \(tangle_task \*\) 0x[0-9a-f]+ "
           r"<toy_tasks\+24>$")


@case
def toy_help_and_completion(_):
    out = gdb(["break toy_ready", "run", mark("help"), "help tangle",
               mark("htasks"), "help tangle tasks", mark("htask"),
               "help tangle task", mark("c1"), "complete tangle task ",
               mark("c2"), "complete tangle bt a", mark("c3"),
               "complete tangle ap", mark("engine"), "tangle"],
              ARGS["toy"], env=fake_env())
    h = section(out, "@@help", "@@htasks")
    for sub in ("apply", "bt", "deadlocks", "graph", "locks", "task",
                "tasks", "triage", "why"):
        expect(h, r"^tangle %s -- \S" % sub)
    expect(section(out, "@@htasks", "@@htask\n"),
           r"^List the tasks", r"^usage: tasks \[--state STATE\]$")
    expect(section(out, "@@htask\n", "@@c1"), r"^tangle task ID selects")
    c1 = section(out, "@@c1", "@@c2")
    expect(c1, r"^tangle task 1$", r"^tangle task 2$", r"^tangle task none$")
    expect(section(out, "@@c2", "@@c3"), r"^tangle bt all$")
    expect(section(out, "@@c3", "@@engine"), r"^tangle apply$")
    expect(section(out, "@@engine"), r"^usage: fake engine commands")


@case
def toy_graph_file(_):
    path = os.path.join(workdir(), "toy.dot")
    out = gdb(["break toy_ready", "run", "tangle graph --x " + path],
              ARGS["toy"], env=fake_env())
    # The fake engine has no graph command: its one-line error, no file.
    expect(out, r"^tangle: fake: unknown command: graph$")
    if os.path.exists(path):
        raise Failure("graph file written on error")


# ---- Messages -------------------------------------------------------------

@case
def missing_engine(_):
    # $TANGLE_INSPECT_LIB naming nothing: one line at load, same on use.
    out = gdb(["tangle tasks"], ARGS["toy"],
              env={"TANGLE_INSPECT_LIB": "/nonexistent/libtangle-inspect.so"})
    line = r"^tangle: TANGLE_INSPECT_LIB=/nonexistent/libtangle-inspect\.so " \
           r"does not exist$"
    expect(out, line)
    if len(re.findall(line, out, re.M)) != 2:
        raise Failure("expected the line twice (load, command):\n" + out)
    # A copy of the package with no engine anywhere near it.
    pkg = os.path.join(workdir(), "pkgcopy")
    shutil.rmtree(pkg, ignore_errors=True)
    src = os.path.dirname(os.path.abspath(ARGS["package"]))
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    out = gdb(["tangle tasks"], ARGS["toy"], load=False,
              pre=["source " + os.path.join(pkg, "tangle-gdb.py")])
    expect(out, r"^tangle: libtangle-inspect not found \(tried .*\); "
           r"set TANGLE_INSPECT_LIB to its path$")
    reject(out, r"Traceback|Python Exception")


@case
def sanitized_engine_env(_):
    # A sanitized engine in $TANGLE_INSPECT_LIB would abort gdb: skipped
    # with a note, and the loader's own engine is used.
    fake = os.path.join(workdir(), "libtangle-inspect.so")
    with open(fake, "wb") as f:
        f.write(b"\x7fELF not really; NEEDED libasan.so.8\n")
    out = gdb(["break toy_ready", "run", "tangle tasks"], ARGS["toy"],
              env={"TANGLE_INSPECT_LIB": fake})
    expect(out, r"^tangle: TANGLE_INSPECT_LIB=%s is built with a sanitizer, "
           r"which gdb cannot load; looking elsewhere$" % re.escape(fake),
           r"^tangle: no tangle debug table: ")


@case
def no_process(_):
    out = gdb(["tangle tasks"], ARGS["toy"], env=fake_env())
    expect(out, r"^tangle: no process \(run the program, attach to it, or "
           r"load a core dump\)$")
