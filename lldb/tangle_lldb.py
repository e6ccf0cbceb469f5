"""tangle commands for lldb: async backtraces, wait chains and hang triage.

Load with (e.g. in ~/.lldbinit):

    command script import /usr/local/share/tangle/lldb/tangle_lldb.py

This adds the `tangle` command (tasks, bt, locks, why, deadlocks, triage,
graph, threads, task) and turns on the OperatingSystem plugin that shows
every suspended task as a thread. Every analysis command is one call into
libtangle-inspect (tangle_session_run) whose output is printed as is; this
module decodes nothing itself. See docs/lldb.md.
"""

import os
import shlex
import sys

import lldb

# The sibling modules, also when this file is imported by path from Python.
_HERE = os.path.dirname(os.path.realpath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import tangle_lldb_engine as engine  # noqa: E402
import tangle_lldb_target as target  # noqa: E402
import tangle_lldb_threads as threads  # noqa: E402

PREFIX = "tangle"
STATUS_ERROR = engine.STATUS_ERROR


def _process(debugger, exe_ctx):
    process = exe_ctx.GetProcess() if exe_ctx is not None else None
    if process is None or not process.IsValid():
        process = debugger.GetSelectedTarget().GetProcess()
    return process


def refresh_threads(debugger, process):
    """Make sure lldb's thread list of this stop came through the plugin;
    reload it if not (the first stop of an attach: lldb builds that list
    before the program's modules and the plugin are there)."""
    process.GetNumThreads()
    if not threads.served(process):
        threads.load_plugin(debugger, everywhere=False)
        process.GetNumThreads()


def engine_run(debugger, exe_ctx, argv):
    """Run one engine command against the current process: (status, text)."""
    process = _process(debugger, exe_ctx)
    try:
        session = target.session_for(process)
        refresh_threads(debugger, process)
        return session.run(argv)
    except engine.Error as e:
        return STATUS_ERROR, str(e)


def report(result, status, text):
    if status == STATUS_ERROR:
        result.SetError("%s: %s" % (PREFIX, text.strip()))
    else:
        result.Print(text)
        result.SetStatus(lldb.eReturnStatusSuccessFinishResult)


def _help(command, arg, result):
    """`tangle CMD --help` of a command of this module: its long help."""
    if arg not in ("--help", "-h"):
        return False
    result.Print(command.get_long_help() + "\n")
    result.SetStatus(lldb.eReturnStatusSuccessFinishResult)
    return True


class UsageError(Exception):
    """Bad arguments, said in one line."""


def _usage(name):
    try:
        text = engine.usage(name)
    except engine.Error as e:
        return "(usage unavailable: %s)" % e
    return text.rstrip("\n") if text else "tangle %s" % name


class EngineCommand(object):
    """`tangle NAME ARGS...` -> the engine's NAME command, output as is."""

    name = None
    short = None

    def __init__(self, debugger, internal_dict):
        pass

    def get_short_help(self):
        return self.short

    def get_long_help(self):
        return _usage(self.name)

    def argv(self, args):
        return [self.name] + args

    def __call__(self, debugger, command, exe_ctx, result):
        try:
            args = shlex.split(command)
        except ValueError as e:
            result.SetError("%s: %s" % (PREFIX, e))
            return
        if "--help" in args or "-h" in args:  # no process needed, only the engine
            try:
                result.Print(self.get_long_help() if engine.library() else "")
                result.Print("\n")
                result.SetStatus(lldb.eReturnStatusSuccessFinishResult)
            except engine.Error as e:
                result.SetError("%s: %s" % (PREFIX, e))
            return
        try:
            argv = self.argv(args)
        except (UsageError, engine.Error) as e:
            result.SetError("%s: %s" % (PREFIX, e))
            return
        status, text = engine_run(debugger, exe_ctx, argv)
        self.output(result, status, text)

    def output(self, result, status, text):
        report(result, status, text)


class Tasks(EngineCommand):
    name, short = "tasks", "List tasks: state, wait, duration, site (filters, --group)."


class Bt(EngineCommand):
    name, short = "bt", "Async backtraces of tasks: tangle bt [ID...|all]."


class Locks(EngineCommand):
    name, short = "locks", "List locks, semaphores, channels: owners and waiters."


class Why(EngineCommand):
    name, short = "why", "The wait chain of one task: tangle why ID."


class Deadlocks(EngineCommand):
    name, short = "deadlocks", "Only the deadlock findings."


class Triage(EngineCommand):
    name, short = "triage", "The full report: findings, wait chains, backtraces [--json]."


class Graph(EngineCommand):
    """`tangle graph [FILE] [OPTIONS]`: the engine renders DOT, this writes
    it to FILE, which may stand anywhere among the options (not as an
    option's value)."""

    name, short = "graph", "Write the wait-for graph as Graphviz DOT: tangle graph FILE."

    def get_long_help(self):
        return ("tangle graph [FILE] [OPTIONS]\n\nWrites the wait-for graph (DOT) to FILE, "
                "which may come before, among or after the options; without FILE, or with "
                "-, prints it. The options are the engine's:\n\n" + _usage(self.name))

    def argv(self, args):
        self.path, rest, words = None, [], []
        i = 0
        while i < len(args):
            a = args[i]
            if engine.option_takes_value(a) and i + 1 < len(args):
                rest += [a, args[i + 1]]
                i += 2
                continue
            if a.startswith("-") and a != "-":
                rest.append(a)
            else:
                words.append(a)
            i += 1
        if len(words) > 1:
            raise UsageError("usage: tangle graph [FILE] [OPTIONS] (one FILE; got %s)"
                             % ", ".join(words))
        if words and words[0] != "-":
            self.path = words[0]
        return ["graph"] + rest

    def output(self, result, status, text):
        if self.path is None or status == STATUS_ERROR:
            return report(result, status, text)
        try:
            with open(self.path, "w") as f:
                f.write(text)
        except OSError as e:
            result.SetError("%s: cannot write %s: %s" % (PREFIX, self.path, e.strerror))
            return
        result.Print("tangle: wrote the wait-for graph to %s\n" % self.path)
        result.SetStatus(lldb.eReturnStatusSuccessFinishResult)


THREADS_HELP = """\
tangle threads [on|off]

Show every suspended task as an lldb thread, named "task ID NAME", its queue
saying what it waits for, next to the real threads: `thread list`,
`thread select N`, `bt`, `frame variable` then work on tasks. This is an
OperatingSystem plugin (the setting target.process.python-os-plugin-path),
loaded with the module for every target. `on` (the default) lists the
tasks at every stop, `off` does not (a program with 100,000 tasks stops
faster); `tangle task ID` and `tangle bt` work either way. Either also
reloads the plugin into the current process. Without an argument: whether
it is on and how many task threads this stop has."""


class Threads(object):
    def __init__(self, debugger, internal_dict):
        pass

    def get_short_help(self):
        return "Show suspended tasks as lldb threads: tangle threads [on|off]."

    def get_long_help(self):
        return THREADS_HELP

    def __call__(self, debugger, command, exe_ctx, result):
        arg = command.strip()
        if _help(self, arg, result):
            return
        if arg not in ("", "on", "off"):
            result.SetError("%s: usage: tangle threads [on|off]" % PREFIX)
            return
        process = _process(debugger, exe_ctx)
        if arg:
            threads.listing = arg == "on"
            if process.IsValid():
                target.forget(process)
            threads.load_plugin(debugger)
        if not threads.listing:
            result.Print("tangle: task threads are off\n")
            return
        if not threads.plugin_set(debugger):
            result.Print("tangle: task threads are on, but the plugin is not loaded "
                         "(tangle threads on loads it)\n")
            return
        if not process.IsValid() or \
                not lldb.SBDebugger.StateIsStoppedState(process.GetState()):
            result.Print("tangle: task threads are on\n")
            return
        refresh_threads(debugger, process)
        count = threads.task_count(process) or 0
        result.Print("tangle: task threads are on: %d task thread%s\n"
                     % (count, "" if count == 1 else "s"))


class Task(object):
    def __init__(self, debugger, internal_dict):
        pass

    def get_short_help(self):
        return "Select the thread of a suspended task: tangle task ID."

    def get_long_help(self):
        return ("tangle task ID\n\nSelect the lldb thread that shows task ID (see "
                "`tangle threads`) and its innermost frame outside the runtime (the "
                "frame `tangle bt` shows as #0), so that `frame variable` shows the "
                "task's own variables at once and `bt`, `up`, `down` work on its "
                "frames. `next`, `step` and `finish` there resume the whole process "
                "(docs/lldb.md).")

    def __call__(self, debugger, command, exe_ctx, result):
        arg = command.strip()
        if _help(self, arg, result):
            return
        try:
            task_id = int(arg, 0)
        except ValueError:
            result.SetError("%s: usage: tangle task ID" % PREFIX)
            return
        process = _process(debugger, exe_ctx)
        try:
            session = target.session_for(process)
        except engine.Error as e:
            result.SetError("%s: %s" % (PREFIX, e))
            return
        info = session.task(task_id)
        if info is None:
            result.SetError("%s: no task %d" % (PREFIX, task_id))
            return
        if not info.suspended:
            where = " (running on thread %d)" % info.worker_tid if info.worker_tid else ""
            result.SetError("%s: task %d is not suspended%s" % (PREFIX, task_id, where))
            return
        refresh_threads(debugger, process)
        model = target.plugin_model(process)
        thread = model.thread_of(target.task_thread(info)) if model else lldb.SBThread()
        if not thread.IsValid() or not process.SetSelectedThreadByID(thread.GetThreadID()):
            result.SetError("%s: task %d: no thread (is the plugin loaded? tangle threads on)"
                            % (PREFIX, task_id))
            return
        # The thread's line, then its innermost frame outside the runtime
        # selected and shown as `frame select` shows it (with the source).
        thread = process.GetSelectedThread()
        stream = lldb.SBStream()
        thread.GetStatus(stream)
        status = stream.GetData() or ""
        index = user_frame(thread)
        if index is None:
            result.Print(status)
            return
        thread.SetSelectedFrame(index)
        frame = thread.GetFrameAtIndex(index)
        out = lldb.SBStream()
        frame.GetDescription(out)
        line = frame.GetLineEntry()
        if line.IsValid() and line.GetFileSpec().IsValid():
            debugger.GetSourceManager().DisplaySourceLinesWithLineNumbers(
                line.GetFileSpec(), line.GetLine(), 3, 3, "->", out)
        result.Print(status.split("\n", 1)[0] + "\n" + (out.GetData() or ""))


def runtime_frame(frame):
    """A frame of the runtime itself, by the engine's rule."""
    line = frame.GetLineEntry()
    path = line.GetFileSpec().fullpath if line.IsValid() else None
    return engine.runtime_frame(frame.GetFunctionName(), path)


def user_frame(thread, limit=64):
    """The index of the task's innermost frame that is not the runtime's
    (where `tangle bt` puts #0), or None."""
    for i in range(min(thread.GetNumFrames(), limit)):
        if not runtime_frame(thread.GetFrameAtIndex(i)):
            return i
    return None


COMMANDS = [Tasks, Bt, Locks, Why, Deadlocks, Triage, Graph]
EXTRA = [("threads", Threads), ("task", Task)]

TOP_HELP = ("Async backtraces, wait chains and hang triage of tangle programs "
            "(libtangle-inspect).")


def __lldb_init_module(debugger, internal_dict):
    # lldb finds command classes by name in its session dictionary; make
    # sure this module is there also when a loader imported it.
    internal_dict[__name__] = sys.modules[__name__]
    interp = debugger.GetCommandInterpreter()
    res = lldb.SBCommandReturnObject()
    interp.HandleCommand('command container add -o -h "%s" %s' % (TOP_HELP, PREFIX), res)
    for cls in COMMANDS:
        interp.HandleCommand("command script add -o -c %s.%s %s %s"
                             % (__name__, cls.__name__, PREFIX, cls.name), res)
    for name, cls in EXTRA:
        interp.HandleCommand("command script add -o -c %s.%s %s %s"
                             % (__name__, cls.__name__, PREFIX, name), res)
    threads.load_plugin(debugger)
    try:
        engine.library()
    except engine.Error as e:
        print("tangle: %s" % e)
