"""gdb tests of the commands' edges on the real runtime and engine: the
task selection across thread switches, frames below the task's innermost
one, clean errors, help with no process, `tangle graph` arguments, apply
completion, the --name/--label filters, and the no-table and unknown-ABI
messages on cores."""

import os
import re

from gdbharness import (ARGS, Failure, case, expect, gdb, make_core, mark,
                        reject, section, workdir)
from cases_rt import rt_target

# `thread N` for a thread other than the selected one.
OTHER_THREAD = ("python gdb.execute('thread %d' % [t.num for t in "
                "gdb.selected_inferior().threads() "
                "if t != gdb.selected_thread()][0])")
NO_PY_NOISE = r"Python Exception|Traceback|Error occurred in Python"


def thread_switch(kind):
    prog, core, pre = rt_target(kind)
    out = gdb(pre + [
        "tangle task 2", mark("other"), OTHER_THREAD, "tangle task",
        "print $tangle_current_task()", "bt", mark("back"),
        # back on the first thread: the selection is gone, bt is its own
        "thread 1" if kind == "live" else "python None",
        "python gdb.execute('thread %d' % min(t.num for t in "
        "gdb.selected_inferior().threads()))", mark("bt"), "bt",
        mark("end")], prog, core)
    other = section(out, "@@other", "@@back")
    reject(other, r"Current task is 2", r'task 2 "sleeper"', r"sleep_deep")
    expect(other, r"^(No task selected\.|\[Current task is \d+ .*, on this "
           r"thread\])$", r"^\$1 = (\(tangle_task \*\) 0x0|0x[0-9a-f]+ task "
           r"1 \"main\" running)$")
    bt = section(out, "@@bt", "@@end")
    expect(bt, r"^#0 ")
    reject(bt, r"sleep_deep|sleeper")
    reject(out, NO_PY_NOISE)


@case
def rt_thread_switch_drops_task_live(_):
    thread_switch("live")


@case
def rt_thread_switch_drops_task_core(_):
    thread_switch("kernel")


@case
def rt_task_down_and_frame_n(_):
    """On the real runtime: the task's innermost user frame is selected;
    down goes to the runtime frames below it; frame 1 is the task's
    innermost frame; frame 0 is the thread's own (the bridge)."""
    for kind in ("kernel", "live"):
        prog, core, pre = rt_target(kind)
        out = gdb(pre + [
            "frame", mark("t2"), "tangle task 2", mark("down"), "down",
            mark("f1"), "frame 1", "info frame", mark("f0"), "frame 0",
            mark("up"), "up", mark("end")], prog, core)
        thread_frame = section(out, "\n#0 ", "\n").strip()
        sel = re.search(r"^#(\d+) .* in sleep_deep \(depth=(depth@entry=)?0\)",
                        section(out, "@@t2", "@@down"), re.M)
        if not sel:
            raise Failure("tangle task 2 did not select sleep_deep:\n" + out)
        level = int(sel.group(1))
        if level < 2:
            raise Failure("expected runtime frames below sleep_deep:\n" + out)
        down = section(out, "@@down", "@@f1")
        expect(down, r"^#%d .* in \S+ \(.*runtime/src/" % (level - 1))
        f1 = section(out, "@@f1", "@@f0")
        expect(f1, r"^#1 +0x[0-9a-f]+ in \S+ \(.*runtime/src/",
               r"^Stack level 1, frame at 0x[0-9a-f]+:$")
        f0 = section(out, "@@f0", "@@up")
        # frame 0 is the thread's frame, the one gdb showed before
        expect(f0, r"^%s" % re.escape(thread_frame.split(" at ")[0]))
        expect(section(out, "@@up", "@@end"), r"^#1 ")
        reject(out, NO_PY_NOISE)


@case
def rt_clean_errors(_):
    prog, core, pre = rt_target("live")
    out = gdb(pre + [
        mark("apply"), "tangle apply 2 bogus", mark("f0"),
        "print $tangle_task()", mark("f2"), "print $tangle_task(2,3)",
        mark("fs"), 'print $tangle_task("x")', mark("fc"),
        "print $tangle_current_task(1)", mark("ok"),
        "print $tangle_task(2)", mark("end")], prog, core)
    reject(out, NO_PY_NOISE, r"TypeError|Cannot convert value")
    expect(section(out, "@@apply", "@@f0"),
           r'^Undefined command: "bogus"\.  Try "help"\.$')
    expect(section(out, "@@f0", "@@f2"), r"^tangle: \$tangle_task takes one "
           r"argument, a task id \(got 0\)$")
    expect(section(out, "@@f2", "@@fs"), r"^tangle: \$tangle_task takes one "
           r"argument, a task id \(got 2\)$")
    expect(section(out, "@@fs", "@@fc"), r'^tangle: \$tangle_task takes a '
           r'task id, a number \(got "x" of type char \[2\]\)$')
    expect(section(out, "@@fc", "@@ok"), r"^tangle: \$tangle_current_task "
           r"takes no arguments \(got 1\)$")
    expect(section(out, "@@ok", "@@end"), r'^\$1 = 0x[0-9a-f]+ task 2 ')


@case
def rt_help_without_process(_):
    out = gdb([mark("tasks"), "tangle tasks --help", mark("why"),
               "tangle help why", mark("graph"), "tangle graph --help",
               mark("apply"), "tangle apply --help", mark("task"),
               "tangle task --help", mark("all"), "tangle help", mark("np"),
               "tangle tasks", mark("end")])
    expect(section(out, "@@tasks", "@@why"), r"^usage: tasks ",
           r"^  --label K=V ")
    expect(section(out, "@@why", "@@graph"), r"^usage: why ID")
    expect(section(out, "@@graph", "@@apply"), r"^usage: graph ",
           r"^  --held-ms N ")
    expect(section(out, "@@apply", "@@task"), r"^Run a gdb command on each")
    expect(section(out, "@@task", "@@all"), r"^Show a task's own stack")
    expect(section(out, "@@all", "@@np"), r"^  why ID ")
    expect(section(out, "@@np", "@@end"), r"^tangle: no process ")
    reject(section(out, "@@tasks", "@@np"), r"no process")


@case
def rt_graph_file_and_options(_):
    prog, core, pre = rt_target("kernel")
    a, b = (os.path.join(workdir(), n) for n in ("first.dot", "last.dot"))
    out = gdb(pre + [
        mark("none"), "tangle graph --held-ms 5", mark("first"),
        "tangle graph %s --held-ms 5" % a, mark("last"),
        "tangle graph --stuck-ms 7 --held-ms=5 %s" % b, mark("two"),
        "tangle graph x.dot y.dot", mark("stdout"),
        "tangle graph --held-ms 5 -", mark("end")], prog, core)
    expect(section(out, "@@none", "@@first"), r"^tangle: graph: FILE is "
           r"missing \(usage: tangle graph FILE \[OPTIONS\]; \"-\" prints "
           r"the graph\)$")
    expect(section(out, "@@first", "@@last"),
           r"^tangle: wrote the wait-for graph to %s$" % re.escape(a))
    expect(section(out, "@@last", "@@two"),
           r"^tangle: wrote the wait-for graph to %s$" % re.escape(b))
    expect(section(out, "@@two", "@@stdout"),
           r"^tangle: graph: one FILE, not 2 \(x\.dot y\.dot\)$")
    expect(section(out, "@@stdout", "@@end"), r"^digraph tangle \{")
    for path in (a, b):
        with open(path) as f:
            expect(f.read(), r"^digraph tangle \{")
    for stray in ("5", "7"):
        if os.path.exists(os.path.join(workdir(), stray)):
            raise Failure("an option's value was taken as FILE: " + stray)


@case
def rt_apply_completion(_):
    prog, core, pre = rt_target("kernel")
    out = gdb(pre + [
        mark("start"), "complete tangle apply ", mark("ids"),
        "complete tangle apply 2 ", mark("flag"),
        "complete tangle apply -q ", mark("cmd"),
        "complete tangle apply 2 frame ", mark("all"),
        "complete tangle apply all ", mark("end")], prog, core)
    start = section(out, "@@start", "@@ids")
    expect(start, r"^tangle apply -c$", r"^tangle apply -q$",
           r"^tangle apply -s$", r"^tangle apply all$", r"^tangle apply 2$")
    ids = section(out, "@@ids", "@@flag")
    expect(ids, r"^tangle apply 2 3$", r"^tangle apply 2 4$")
    reject(ids, r"apply 2 -[cqs]$", r"apply 2 all$")
    flag = section(out, "@@flag", "@@cmd")
    expect(flag, r"^tangle apply -q -c$", r"^tangle apply -q 3$")
    reject(flag, r"-q -q$")
    reject(section(out, "@@cmd", "@@end"), r"^tangle apply .* -[cqs]$",
           r"^tangle apply .* \d$")


@case
def rt_tasks_name_label(_):
    prog, core, pre = rt_target("kernel")
    out = gdb(pre + [
        mark("name"), "tangle tasks --name 's*'", mark("label"),
        "tangle tasks --label role=signal-waiter", mark("none"),
        "tangle tasks --label role=nobody", mark("end")], prog, core)
    name = section(out, "@@name", "@@label")
    expect(name, r"^2 +waiting .* sleeper$")
    reject(name, r"^[134] ")
    label = section(out, "@@label", "@@none")
    expect(label, r"^3 +waiting .* parker$")
    reject(label, r"^[124] ")
    reject(section(out, "@@none", "@@end"), r"^\d+ ")


@case
def rt_abi_version_core(_):
    """A core whose table says ABI 99: the one-line message, as live."""
    prog, _, pre = rt_target("live")
    core = os.path.join(workdir(), "abi99.core")
    if os.path.exists(core):
        os.remove(core)
    gdb(pre + ["set {unsigned short}((char *)&tangle_debug_root + 8) = 99",
               "gcore " + core, "kill"], prog, load=False)
    if not os.path.exists(core):
        raise Failure("no core made")
    out = gdb(["tangle tasks", "tangle triage --json"], prog, core)
    lines = re.findall(r"^tangle: debug table ABI version 99\.\d+ cannot be "
                       r"read by this tangle, which reads ABI version 1\.x"
                       r".*$", out, re.M)
    if len(lines) != 2:
        raise Failure("expected the ABI line twice:\n" + out)
    reject(out, NO_PY_NOISE)


@case
def rt_no_table_core(_):
    """A core of a program without libtangle (the toy, real engine)."""
    core = make_core(ARGS["toy"], "toy_ready", "toy-notable.core")
    out = gdb(["tangle tasks", "tangle task 1", "print $tangle_task(1)"],
              ARGS["toy"], core)
    line = (r"^tangle: no tangle debug table: the symbol tangle_debug_root "
            r"was not found \(does the program use libtangle\?\)$")
    if len(re.findall(line, out, re.M)) != 3:
        raise Failure("expected the no-table line three times:\n" + out)
    reject(out, NO_PY_NOISE)
