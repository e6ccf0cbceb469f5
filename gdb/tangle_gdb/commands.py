"""The `tangle` commands. Each one runs an engine command in the session of
the current stop and prints what the engine returns; options, filters and
every byte of output are the engine's (tangle_inspect_usage). Only `task`,
`apply` and `graph FILE` do something of their own in gdb.
"""

import re

import gdb

from . import engine, frames, session, tasks


def _write(text):
    if text:
        gdb.write(text if text.endswith("\n") else text + "\n")


def run(argv):
    """Run an engine command and return its output, or raise
    gdb.GdbError with the engine's one-line message."""
    status, out = session.get().run(argv)
    if status == 2:
        raise gdb.GdbError(engine.one_line(out or "%s failed" % argv[0]))
    return out


_HELP = ("--help", "-h")


def _help(name, argv):
    """Print the engine's usage of name and return True if argv asks for
    help: it needs no session, so it works with no process."""
    if not any(a in _HELP for a in argv):
        return False
    text = session.usage(name)
    if not text:
        session.lib()   # no engine: its one-line message
    _write(text)
    return True


def _complete_ids(word, extra=()):
    s = session.peek()
    if s is None:
        try:
            s = session.get()
        except gdb.GdbError:
            return list(w for w in extra if w.startswith(word))
    ids = [str(i) for i in s.task_ids()]
    return [w for w in list(extra) + ids if w.startswith(word)]


def _doc(summary, command, fallback):
    text = session.usage(command).rstrip()
    return "%s\n\n%s" % (summary, text or fallback)


class TanglePrefix(gdb.Command):
    """Async tasks of a tangle program: backtraces, locks, wait chains.

Every task, lock and wait of a program built on libtangle, read from its
debug table by the same engine as the `tangle` command line tool, on a live
process or a core dump. `tangle task ID` shows a task's own stack in gdb's
bt, frame, up, down, info locals and print."""

    def __init__(self):
        super().__init__("tangle", gdb.COMMAND_STACK, gdb.COMPLETE_NONE,
                         True)

    def invoke(self, arg, from_tty):
        # Having invoke makes gdb pass unknown subcommands here: they go
        # to the engine as they are (`tangle help`, newer engine commands).
        argv = gdb.string_to_argv(arg)
        if not argv:
            gdb.write(session.usage() or self.__doc__ + "\n")
            gdb.write('Type "help tangle" for the gdb commands.\n')
            return
        if argv[0] == "help" and len(argv) <= 2:   # no session needed
            text = session.usage(argv[1] if len(argv) > 1 else None)
            if not text:
                session.lib()   # no engine: its one-line message
            _write(text)
            return
        if _help(argv[0], argv[1:]):
            return
        _write(run(argv))


class EngineCommand(gdb.Command):
    """Base: `tangle NAME ARGS` runs engine command NAME with ARGS."""

    engine_name = None
    summary = None
    fallback = None
    ids = False

    def __init__(self):
        self.__doc__ = _doc(self.summary, self.engine_name, self.fallback)
        super().__init__("tangle " + self.engine_name, gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if _help(self.engine_name, argv):
            return
        _write(run([self.engine_name] + argv))

    def complete(self, text, word):
        if not self.ids:
            return gdb.COMPLETE_NONE
        return _complete_ids(word or "", ("all",) if self.ids == "all" else ())


class Tasks(EngineCommand):
    engine_name = "tasks"
    summary = "List the tasks: state, wait, duration, site."
    fallback = "Usage: tangle tasks [OPTIONS]"


class Bt(EngineCommand):
    engine_name = "bt"
    summary = "Async backtraces of tasks: tangle bt [ID...|all]."
    fallback = "Usage: tangle bt [ID...|all]"
    ids = "all"


class Locks(EngineCommand):
    engine_name = "locks"
    summary = "List the locks, semaphores, channels and notifies."
    fallback = "Usage: tangle locks [OPTIONS]"


class Why(EngineCommand):
    engine_name = "why"
    summary = "Why a task waits: its wait chain, to the root cause."
    fallback = "Usage: tangle why ID"
    ids = True


class Deadlocks(EngineCommand):
    engine_name = "deadlocks"
    summary = "Show the deadlocks only."
    fallback = "Usage: tangle deadlocks [OPTIONS]"


class Triage(EngineCommand):
    engine_name = "triage"
    summary = "The full report: findings, wait chains, backtraces."
    fallback = "Usage: tangle triage [--json]"


def split_graph_args(argv, takes_value):
    """(FILE, engine options) of `tangle graph` arguments: FILE is the one
    argument that is neither an option nor an option's value, first, last
    or anywhere between; "-" (print it) counts as FILE."""
    files, opts, i = [], [], 0
    while i < len(argv):
        a = argv[i]
        if a != "-" and a.startswith("-"):
            opts.append(a)
            if takes_value(a) and i + 1 < len(argv):
                opts.append(argv[i + 1])
                i += 1
        else:
            files.append(a)
        i += 1
    if not files:
        raise gdb.GdbError('tangle: graph: FILE is missing (usage: tangle '
                           'graph FILE [OPTIONS]; "-" prints the graph)')
    if len(files) > 1:
        raise gdb.GdbError("tangle: graph: one FILE, not %d (%s)"
                           % (len(files), " ".join(files)))
    return files[0], opts


class Graph(gdb.Command):
    """Write the wait-for graph as Graphviz DOT: tangle graph FILE [OPTIONS].

FILE is where the DOT goes ("-" prints it); render it with dot -Tsvg.
FILE may come before, after or between the options. The options are the
engine's:"""

    def __init__(self):
        self.__doc__ = _doc(self.__doc__, "graph",
                            "Usage: tangle graph FILE [OPTIONS]")
        super().__init__("tangle graph", gdb.COMMAND_STACK,
                         gdb.COMPLETE_FILENAME)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if _help("graph", argv):
            return
        path, opts = split_graph_args(argv, session.option_takes_value)
        out = run(["graph"] + opts)
        if path == "-":
            _write(out)
            return
        try:
            with open(path, "w") as f:
                f.write(out)
        except OSError as e:
            raise gdb.GdbError("tangle: cannot write %s: %s"
                               % (path, e.strerror))
        gdb.write("tangle: wrote the wait-for graph to %s\n" % path)


class Task(gdb.Command):
    """Show a task's own stack in gdb: tangle task [ID|none].

tangle task ID selects task ID: for a suspended task, gdb's own bt, frame N,
up, down, info frame, info locals and print then work on that task's frames
(the innermost frame outside the runtime is selected); a running task is
shown by switching to its worker thread. This works on a live process and
on a core dump, and never changes the target.

tangle task none puts gdb's frames back; so does resuming the program,
and so does selecting another thread (thread N): a task selection belongs
to the thread it was shown on. tangle task alone says which task is
selected (else which task runs on the selected thread).

The task is shown through the selected thread: its innermost frame (frame
0) stays the thread's own and becomes a bridge whose caller is the task's
saved context, so the task's frames are #1 and up. bt hides #0 (bt
-no-filters shows it); frame 0, or down from #1, selects the thread's
frame, not the task's. Step, next and finish work on threads, not on
tasks: use tangle task none first."""

    def __init__(self):
        super().__init__("tangle task", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if any(a in _HELP for a in argv):
            gdb.write(self.__doc__ + "\n")
            return
        if len(argv) > 1:
            raise gdb.GdbError("usage: tangle task [ID|none]")
        if not argv:
            self._show()
            return
        if argv[0] == "none":
            was = frames.active()
            frames.clear()
            if was:
                gdb.write("[Task %d no longer selected]\n" % was[0])
            return
        info = tasks.lookup(argv[0])
        tasks.select(info)
        where = ""
        if not info.suspended:
            where = " on thread %d" % gdb.selected_thread().num
        gdb.write("[Switching to task %s%s]\n" % (tasks.label(info), where))
        gdb.execute("frame", from_tty=False)

    def _show(self):
        sel = frames.active()
        if sel:
            gdb.write("[Current task is %s]\n" % sel[1])
            return
        thread = gdb.selected_thread()
        s = session.peek() or session.get()
        t = s.running_on(frames.lwp_of(thread)) if thread else None
        if t is not None:
            gdb.write("[Current task is %s, on this thread]\n"
                      % tasks.label(t))
        else:
            gdb.write("No task selected.\n")

    def complete(self, text, word):
        return _complete_ids(word or "", ("none",))


_APPLY_FLAGS = ("-q", "-c", "-s")
_ID_RE = re.compile(r"^\d+(-\d+)?$")


def _parse_apply(arg):
    """(flags, ids or 'all', command) of `tangle apply` arguments."""
    flags, ids, rest = set(), [], arg.strip()
    while rest:
        token, _, tail = rest.partition(" ")
        if token in _APPLY_FLAGS and not ids:
            flags.add(token)
        elif token == "all" and not ids:
            return flags, "all", tail.strip()
        elif _ID_RE.match(token):
            lo, _, hi = token.partition("-")
            ids.extend(range(int(lo), int(hi or lo) + 1))
        else:
            break
        rest = tail.strip()
    return flags, ids, rest


class Apply(gdb.Command):
    """Run a gdb command on each of several tasks: tangle apply ID...|all CMD.

Like thread apply: selects each task in turn (as tangle task ID does) and
runs CMD, e.g. `tangle apply all bt`, `tangle apply 3 7 info locals`.
IDs may be ranges (4-9). Flags, before the ids:
  -q   no header line per task
  -c   print errors of CMD and go on with the next task
  -s   silent: skip tasks where CMD fails or prints nothing
Tasks without a stack (done, cancelled) are skipped with a note. The
selection before the command is put back afterwards."""

    def __init__(self):
        super().__init__("tangle apply", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        if arg.strip() in _HELP:
            gdb.write(self.__doc__ + "\n")
            return
        flags, ids, command = _parse_apply(arg)
        if not ids or not command:
            raise gdb.GdbError("usage: tangle apply [-q] [-c|-s] ID...|all "
                               "COMMAND")
        s = session.get()
        if ids == "all":
            ids = list(s.task_ids())
        with frames.Keep():
            for task_id in ids:
                self._one(task_id, flags, command, from_tty)

    def _one(self, task_id, flags, command, from_tty):
        info = session.get().task(task_id)
        quiet, silent = "-q" in flags, "-s" in flags
        if info is None:
            if not silent:
                gdb.write("tangle: no task %d\n" % task_id)
            return
        header = "" if quiet else "\nTask %s:\n" % tasks.label(info)
        try:
            tasks.select(info)
        except gdb.GdbError as e:
            if not silent:
                gdb.write("%s%s\n" % (header, e))
            return
        try:
            if silent:
                out = gdb.execute(command, from_tty, to_string=True)
                if out:
                    gdb.write(header + out)
                return
            gdb.write(header)
            gdb.execute(command, from_tty)
        except gdb.error as e:
            if silent:
                return
            if "-c" in flags:
                gdb.write("%s\n" % e)
                return
            # gdb's message as the command's own, not a Python exception
            raise gdb.GdbError(str(e))

    def complete(self, text, word):
        # Flags only before the ids, ids only before the command.
        word = word or ""
        done = text[:len(text) - len(word)].split()
        if any(t == "all" or not (t in _APPLY_FLAGS or _ID_RE.match(t))
               for t in done):
            return []                 # in COMMAND
        if any(_ID_RE.match(t) for t in done):
            return _complete_ids(word)
        flags = tuple(f for f in _APPLY_FLAGS if f not in done)
        return _complete_ids(word, ("all",) + flags)


def install():
    TanglePrefix()
    for cls in (Tasks, Bt, Locks, Why, Deadlocks, Triage, Graph, Task,
                Apply):
        cls()
