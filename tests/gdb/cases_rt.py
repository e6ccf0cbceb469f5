"""gdb tests on the real runtime and engine: gdb_tasks, gdb_locks and the
stripped static program, live and on cores."""

import json
import os
import re
import shutil
import subprocess

from gdbharness import (ARGS, CORE_LIMIT, Failure, Skip, assert_plain, case,
                        expect, gdb, make_core, mark, reject, section,
                        workdir)

# ---- The real runtime and engine: gdb_tasks --------------------------------

def make_kernel_core(program, name):
    """Run program abort in a fresh directory with cores on; the kernel's
    core, or gcore's when cores are piped away."""
    import resource
    assert_plain(program)
    d = os.path.join(workdir(), name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open("/proc/sys/kernel/core_pattern") as f:
        piped = f.read().startswith("|")
    if not piped:
        def cores_on():
            resource.setrlimit(resource.RLIMIT_CORE, (CORE_LIMIT,
                                                      CORE_LIMIT))
        subprocess.run([program, "abort"], cwd=d, preexec_fn=cores_on,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=30)
        for f in sorted(os.listdir(d)):
            if f == "core" or f.startswith("core."):
                return os.path.join(d, f)
    return make_core(program, "gdb_tasks_ready", os.path.join(name, "core"))


def rt_target(kind):
    """gdb arguments and leading commands for gdb_tasks live or on a core:
    (program, core, commands)."""
    prog = ARGS["prog"]
    if kind == "live":
        return prog, None, ["break gdb_tasks_ready", "run"]
    if kind == "gcore":
        return prog, make_core(prog, "gdb_tasks_ready", "gcore.core"), []
    return prog, make_kernel_core(prog, "kernel"), []


RT_COMMANDS = [
    mark("tasks"), "tangle tasks", mark("waiting"),
    "tangle tasks --state waiting", mark("group"), "tangle tasks --group",
    mark("bt2"), "tangle bt 2", mark("bt1"), "tangle bt 1", mark("btall"),
    "tangle bt all", mark("locks"), "tangle locks", mark("why"),
    "tangle why 4", mark("why99"), "tangle why 99", mark("dl"),
    "tangle deadlocks", mark("triage"), "tangle triage", mark("json"),
    "tangle triage --json", mark("graph"), "tangle graph %s",
    mark("end")]


def check_rt_commands(out, kind, dot):
    expect(section(out, "@@tasks", "@@waiting"),
           r"^1 +running .* main$",
           r"^2 +waiting +\S+ +sleep +gdb_tasks\.c:{L:sleep} sleep_deep +sleeper$",
           r'^3 +waiting +\S+ +park "the test\'s signal" +gdb_tasks\.c:{L:park} ',
           r'^4 +waiting +\S+ +join task 2 "sleeper" +gdb_tasks\.c:{L:join} ')
    w = section(out, "@@waiting", "@@group")
    expect(w, r"^2 +waiting", r"^4 +waiting")
    reject(w, r"running")
    expect(section(out, "@@group", "@@bt2"), r"^COUNT +STATE",
           r"^1 +waiting +\S+ +sleep +gdb_tasks\.c:{L:sleep} sleep_deep$")
    expect(section(out, "@@bt2", "@@bt1"),
           r'^task 2 "sleeper"  waiting \S+  spawned by task 1 at '
           r"gdb_tasks\.c:\d+ main_task$",
           r"^  #0 sleep_deep at gdb_tasks\.c:{L:sleep} +<- awaiting sleep$",
           r"^  #1 sleep_deep at gdb_tasks\.c:{L:recurse}$",
           r"^  #2 sleep_deep at gdb_tasks\.c:{L:recurse}$",
           r"^  #3 sleeper at gdb_tasks\.c:{L:sleeper}$")
    bt1 = section(out, "@@bt1", "@@btall")
    expect(bt1, r'^task 1 "main"  running', r"^  #\d main_task at "
           r"gdb_tasks\.c:\d+$")
    if kind == "live":
        expect(bt1, r"^  #0 gdb_tasks_ready at gdb_tasks\.c:({L:ready}|{L:ready+1})$")
    else:
        expect(bt1, r"^  #0 \S*(raise|kill)\S* at ")
    expect(section(out, "@@btall", "@@locks"), r'^task 1 "main"',
           r'^task 2 "sleeper"', r'^task 3 "parker"',
           r'^  #0 wait_for_signal at gdb_tasks\.c:{L:park} +<- awaiting park '
           r'"the test\'s signal"$', r'^task 4 "joiner"',
           r'^  #0 joiner at gdb_tasks\.c:{L:join} +<- awaiting join task 2 '
           r'"sleeper"$')
    expect(section(out, "@@locks", "@@why\n"), r"^KIND +NAME")
    expect(section(out, "@@why\n", "@@why99"),
           r'^  task 4 "joiner" waits \S+ to join task 2 "sleeper" '
           r"\(gdb_tasks\.c:{L:join} joiner\)$")
    expect(section(out, "@@why99", "@@dl"), r"^tangle: why: no task 99$")
    expect(section(out, "@@dl", "@@triage"), r"^0 deadlocks among 4 tasks$")
    expect(section(out, "@@triage", "@@json"), r"^0 findings; 4 tasks ")
    doc = json_of(section(out, "@@json", "@@graph"))
    if doc.get("findings") != [] or doc.get("counts", {}).get("tasks") != 4:
        raise Failure("unexpected triage JSON:\n" + json.dumps(doc)[:2000])
    expect(section(out, "@@graph", "@@end"),
           r"^tangle: wrote the wait-for graph to ")
    with open(dot) as f:
        expect(f.read(), r"^digraph tangle \{",
               r'^  t4 \[shape=box, label="task 4\\njoiner\\nwaiting"\];')


def json_of(text):
    start = text.find("\n{")
    try:
        return json.JSONDecoder().raw_decode(text, start + 1)[0]
    except ValueError:
        raise Failure("no JSON in:\n" + text)


def rt_commands(kind):
    prog, core, pre = rt_target(kind)
    dot = os.path.join(workdir(), kind + ".dot")
    cmds = [c % dot if "%s" in c else c for c in RT_COMMANDS]
    out = gdb(pre + cmds, prog, core)
    check_rt_commands(out, kind, dot)


@case
def rt_commands_live(_):
    rt_commands("live")


@case
def rt_commands_core(_):
    rt_commands("kernel")


RT_TASK_COMMANDS = [
    mark("t2"), "tangle task 2", mark("bt"), "bt", mark("locals"),
    "info locals", mark("up"), "up", "info locals", mark("frame"),
    # frame N two levels above the selected one (how many runtime frames
    # lie below depends on the path the task took to suspend)
    "python gdb.execute('frame %d' % (gdb.selected_frame().level() + 1))",
    "print depth", "frame function sleeper", mark("keep"),
    # the engine unwinding other tasks leaves the selection as it was
    "tangle bt 3 4", "frame", mark("t3"), "tangle task 3", "info locals",
    mark("t4"), "tangle task 4", "print join_local", mark("none"),
    "tangle task none", "tangle task", "bt", mark("t1"), "tangle task 1",
    "bt", mark("end")]


def check_rt_task(out, kind):
    expect(section(out, "@@t2", "@@bt"),
           r'^\[Switching to task 2 "sleeper" \(sleep\)\]$',
           r"^#\d+ +0x[0-9a-f]+ in sleep_deep \(depth=(depth@entry=)?0\) at "
           r".*gdb_tasks\.c:{L:sleep}$")
    bt = section(out, "@@bt", "@@locals")
    expect(bt, r"^#\d+ .* in sleep_deep \(depth=(depth@entry=)?0\) ",
           r"^#\d+ .* in sleep_deep \(depth=(depth@entry=)?1\) ",
           r"^#\d+ .* in sleep_deep \(depth=(depth@entry=)?2\) ",
           r"^#\d+ .* in sleeper \(")
    reject(bt, r"^#0 ", r"gdb_tasks_ready|main_task|abort")
    expect(section(out, "@@locals", "@@up"), r"^sleep_local = 4240$")
    expect(section(out, "@@up", "@@frame"), r"^sleep_local = 4241$")
    keep = section(out, "@@keep", "@@t3")
    expect(keep, r'^task 3 "parker"', r'^task 4 "joiner"')
    if not re.search(r"^#\d+ .* in sleeper \(", keep.split('task 4 "joiner"')[1],
                     re.M):
        raise Failure("selection lost after tangle bt:\n" + keep)
    expect(section(out, "@@frame", "@@keep"),
           r"^#\d+ .* in sleep_deep \(depth=(depth@entry=)?2\) ",
           r"^\$1 = 2$", r"^#\d+ .* in sleeper \(")
    expect(section(out, "@@t3", "@@t4"), r"^park_local = 77$",
           r'wait_for_signal \(what=0x[0-9a-f]+ "the test\'s signal"\)')
    expect(section(out, "@@t4", "@@none"), r"^\$2 = 99$")
    none = section(out, "@@none", "@@t1")
    expect(none, r"^\[Task 4 no longer selected\]$", r"^#0 ")
    reject(none, r"sleep_deep|joiner|Current task is [234]")
    t1 = section(out, "@@t1", "@@end")
    expect(t1, r'^\[Switching to task 1 "main" \(running\) on thread \d+\]$',
           r"^#\d+ .* in main_task \(")
    reject(t1, r"sleep_deep")


@case
def rt_task_frames_live(_):
    prog, core, pre = rt_target("live")
    check_rt_task(gdb(pre + RT_TASK_COMMANDS, prog, core), "live")


@case
def rt_task_frames_core(_):
    prog, core, pre = rt_target("kernel")
    check_rt_task(gdb(pre + RT_TASK_COMMANDS, prog, core), "core")


@case
def rt_task_frames_gcore(_):
    prog, core, pre = rt_target("gcore")
    check_rt_task(gdb(pre + RT_TASK_COMMANDS, prog, core), "core")


@case
def rt_apply_and_printers(_):
    prog, core, pre = rt_target("live")
    out = gdb(pre + [
        mark("apply"), "tangle apply 2-4 info locals", mark("p3"),
        "print $tangle_task(3)", mark("cur"), "print $tangle_current_task()",
        mark("deref"), "print $tangle_task(4)->name", mark("none"),
        "tangle task 2", "print $tangle_current_task()", mark("end")],
        prog, core)
    expect(section(out, "@@apply", "@@p3"),
           r'^Task 2 "sleeper" \(sleep\):\n(.*\n)*?sleep_local = 4240$',
           r'^Task 3 "parker" \(park "the test\'s signal"\):\n(.*\n)*?'
           r"park_local = 77$",
           r'^Task 4 "joiner" \(join task 2 "sleeper"\):\n(.*\n)*?'
           r"join_local = 99$")
    expect(section(out, "@@p3", "@@cur"),
           r'^\$1 = 0x[0-9a-f]+ task 3 "parker" waiting \S+: park '
           r'"the test\'s signal"$')
    expect(section(out, "@@cur", "@@deref"),
           r'^\$2 = 0x[0-9a-f]+ task 1 "main" running$')
    expect(section(out, "@@deref", "@@none"), r'^\$3 = "joiner"')
    expect(section(out, "@@none", "@@end"),
           r'^\$4 = 0x[0-9a-f]+ task 2 "sleeper" waiting')


@case
def rt_autoload(_):
    prog, core, _ = rt_target("kernel")
    safe = "add-auto-load-safe-path " + ARGS["build"]
    out = gdb([mark("tasks"), "tangle tasks", mark("info"),
               "info auto-load python-scripts"], prog, core, load=False,
              pre=[safe])
    expect(section(out, "@@tasks", "@@info"), r"^2 +waiting +\S+ +sleep ")
    expect(section(out, "@@info"), r"^Yes +gdb\.inlined-script\.tangle")
    reject(out, r"declined")
    # Outside the safe path: gdb's own warning, no commands.
    out = gdb(["tangle tasks"], prog, core, load=False)
    expect(out, r"auto-loading has been declined by your `auto-load "
           r"safe-path'", r'^Undefined command: "tangle"')


@case
def rt_autoload_static(_):
    """Linked statically, the program itself carries the auto-load entry
    (debug.c references its anchor, so the linker keeps gdb_scripts.o)."""
    prog = ARGS["static"]
    safe = "add-auto-load-safe-path " + ARGS["build"]
    out = gdb([mark("info"), "info auto-load python-scripts", mark("help"),
               "help tangle", mark("end")], prog, load=False, pre=[safe])
    expect(section(out, "@@info", "@@help"),
           r"^Yes +gdb\.inlined-script\.tangle")
    reject(section(out, "@@help", "@@end"), r"Undefined command")


@case
def rt_no_table(_):
    out = gdb(["break toy_ready", "run", "tangle tasks", "tangle triage"],
              ARGS["toy"])
    line = (r"^tangle: no tangle debug table: the symbol tangle_debug_root "
            r"was not found \(does the program use libtangle\?\)$")
    if len(re.findall(line, out, re.M)) != 2:
        raise Failure("expected the no-table line twice:\n" + out)


@case
def rt_abi_version(_):
    prog, core, pre = rt_target("live")
    out = gdb(pre + ["set {unsigned short}((char *)&tangle_debug_root + 8) "
                     "= 99", "tangle tasks"], prog, core)
    expect(out, r"^tangle: debug table ABI version 99\.\d+ cannot be read "
           r"by this tangle, which reads ABI version 1\.x.*$")
    reject(out, r"Traceback|Python Exception")


@case
def rt_stripped(_):
    # No symbols, no debug info: the table is found by its section.
    prog = ARGS["stripped"]
    out = gdb(["break exit", "run", "tangle tasks"], prog, load=True,
              args=("abort",))
    # break exit does not trigger (abort); the program stops on SIGABRT.
    expect(out, r"^2 +waiting +\S+ +sleep ", r"^4 +waiting +\S+ +join ")


def locks_target(kind):
    prog = ARGS["locks"]
    if kind == "live":
        return prog, None, ["break gdb_locks_ready", "run"]
    return prog, make_kernel_core(prog, "kernel"), []


LOCK_PRINTS = [
    mark("p"), "print accounts", "print ledger", "print config",
    "print permits", "print wakeup", "print jobs", mark("raw"),
    "print/r accounts", "disable pretty-printer global tangle;tangle_chan",
    "print jobs", mark("end")]


def check_lock_prints(out):
    expect(section(out, "@@p", "@@raw"),
           r'^\$1 = mutex "accounts" held by task 2 "transfer-a", 1 waiter: '
           r'task 3 "transfer-b"$',
           r'^\$2 = mutex "ledger" held by task 3 "transfer-b", 1 waiter: '
           r'task 2 "transfer-a"$',
           r'^\$3 = rwlock "config" read-held by 1 task, 1 waiter: task \d+ '
           r'"writer" \(write\)$',
           r'^\$4 = semaphore "permits" 1 of 2 permits free, 0 waiters$',
           r'^\$5 = notify "wakeup", 1 waiter: task \d+ "reader"$',
           r'^\$6 = 0x[0-9a-f]+ channel "jobs" 1/1 buffered, 1 waiter: task '
           r'\d+ "producer" \(send\)$')
    expect(section(out, "@@raw", "@@end"), r"^\$7 = \{opaque_ = ",
           r"^\$8 = \(tangle_chan \*\) 0x[0-9a-f]+$")


@case
def rt_lock_printers_live(_):
    prog, core, pre = locks_target("live")
    check_lock_prints(gdb(pre + LOCK_PRINTS, prog, core))


@case
def rt_lock_printers_core(_):
    prog, core, pre = locks_target("kernel")
    check_lock_prints(gdb(pre + LOCK_PRINTS, prog, core))


@case
def rt_deadlock(_):
    prog, core, pre = locks_target("kernel")
    out = gdb(pre + [
        mark("dl"), "tangle deadlocks", mark("why"), "tangle why 2",
        mark("bt"), "tangle bt 2", mark("task"), "tangle task 3", "bt",
        mark("end")], prog, core)
    expect(section(out, "@@dl", "@@why"),
           r"^DEADLOCK  lock-order cycle between 2 tasks  \[sig [0-9a-f]+\]$",
           r'^  fix: take "accounts" before "ledger" everywhere')
    expect(section(out, "@@why", "@@bt"), r"^  \(back to task 2: a cycle\)$")
    expect(section(out, "@@bt", "@@task"),
           r'^  holds mutex "accounts" \(exclusive\) for \S+ at '
           r"gdb_locks\.c:\d+ lock_both$",
           r'^  #0 lock_both at gdb_locks\.c:\d+( \(inlined\))? +<- awaiting '
           r'mutex "ledger"$', r"^  #1 transfer_a at gdb_locks\.c:\d+$")
    t = section(out, "@@task", "@@end")
    expect(t, r'^\[Switching to task 3 "transfer-b" \(lock mutex '
           r'"accounts"\)\]$', r"^#\d+ .*lock_both \(.*first=0x[0-9a-f]+ <ledger>",
           r"^#\d+ .*transfer_b \(")


@case
def rt_json_matches_cli(_):
    cli = ARGS.get("cli")
    if not cli or not os.path.exists(cli):
        raise Skip("the tangle CLI is not built")
    prog, core, _ = locks_target("kernel")
    commands = (["triage", "--json"], ["tasks", "--json"],
                ["locks", "--json"], ["why", "2", "--json"],
                ["deadlocks", "--json"])
    py = ("python open(%r, 'w').write(gdb.execute('tangle %s', "
          "to_string=True))")
    outs = []
    for i, c in enumerate(commands):
        path = os.path.join(workdir(), "gdb%d.json" % i)
        outs.append(path)
    out = gdb([py % (outs[i], " ".join(c)) for i, c in enumerate(commands)],
              prog, core)
    for i, c in enumerate(commands):
        r = subprocess.run([cli, c[0]] + c[1:] + [core, prog],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode not in (0, 1):
            raise Failure("CLI %s failed: %s" % (c, r.stderr.decode()))
        if not os.path.exists(outs[i]):
            raise Failure("gdb wrote no %s:\n%s" % (outs[i], out))
        with open(outs[i], "rb") as f:
            mine = f.read()
        if mine != r.stdout:
            import difflib
            diff = "".join(difflib.unified_diff(
                r.stdout.decode().splitlines(True),
                mine.decode().splitlines(True), "cli", "gdb"))
            raise Failure("tangle %s differs from the CLI's:\n%s"
                          % (" ".join(c), diff[:4000]))


@case
def install_autoload(_):
    # Install libtangle and the gdb files into a scratch prefix (the
    # runtime's and gdb's install scripts; the engine copied beside), run a
    # program on the installed library and load its core with no source.
    prefix = os.path.join(workdir(), "prefix")
    shutil.rmtree(prefix, ignore_errors=True)
    build = ARGS["build"]
    for sub in ("runtime", "gdb"):
        r = subprocess.run(["cmake", "-DCMAKE_INSTALL_PREFIX=" + prefix, "-P",
                            os.path.join(build, sub, "cmake_install.cmake")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode:
            raise Failure("install of %s failed:\n%s" % (sub, r.stdout))
    libdir = None
    for root, _, files in os.walk(prefix):
        if "libtangle.so.0" in files:
            libdir = root
    if libdir is None:
        raise Failure("no libtangle.so.0 under " + prefix)
    # The library the test programs use (a plain copy in sanitizer builds).
    shutil.copy(ARGS["runtime"],
                os.path.realpath(os.path.join(libdir, "libtangle.so.0")))
    shutil.copy(ARGS["engine"], os.path.join(libdir, "libtangle-inspect.so.0"))
    os.environ["LD_LIBRARY_PATH"] = libdir
    prog, core, _ = rt_target("kernel")
    del os.environ["LD_LIBRARY_PATH"]
    auto = os.path.join(prefix, "share", "gdb", "auto-load")
    which = "python import tangle_gdb.session as s; print('ENGINE', s.lib_path())"
    # 1. The $datadir/gdb/auto-load script (a prefix gdb does not search by
    #    default: the two lines docs/gdb.md gives).
    out = gdb([mark("tasks"), "tangle tasks", mark("info"),
               "info auto-load python-scripts", which], prog, core,
              load=False, pre=["add-auto-load-scripts-directory " + auto,
                               "add-auto-load-safe-path " + auto])
    expect(section(out, "@@tasks", "@@info"), r"^2 +waiting +\S+ +sleep ")
    expect(section(out, "@@info"), r"^Yes +%s/.*/libtangle\.so\.[0-9.]+-gdb\.py"
           % re.escape(auto), r"^Yes +gdb\.inlined-script\.tangle",
           r"^ENGINE %s/libtangle-inspect\.so\.0$" % re.escape(libdir))
    reject(out, r"declined|Missing|not found")
    # 2. Only libtangle's .debug_gdb_scripts entry, the library trusted.
    out = gdb([mark("tasks"), "tangle tasks", which], prog, core, load=False,
              pre=["add-auto-load-safe-path " + libdir])
    expect(section(out, "@@tasks"), r"^2 +waiting +\S+ +sleep ",
           r"^ENGINE %s/libtangle-inspect\.so\.0$" % re.escape(libdir))
    reject(out, r"declined|Missing|not found")
