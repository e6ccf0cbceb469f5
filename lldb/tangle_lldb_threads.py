"""Suspended tangle tasks as lldb threads (the OperatingSystem plugin's model).

lldb's OperatingSystemPython asks a plugin object for a list of thread
dictionaries, one register layout, and each thread's register bytes. This
module builds those from tasks: every suspended task becomes a thread named
"task ID NAME" whose queue says what it waits for, and whose registers are
the task's saved context (pc, sp and the callee-saved registers the switch
pushed; every other register reads 0). lldb then unwinds the task with its
own unwinder, so `thread select`, `bt` and `frame variable` work on it.

Two ways a task becomes a thread:
  - listed: with `tangle threads on` (the default) the plugin lists every
    suspended task at every stop;
  - on demand: the engine's unwinder hands over a saved context and gets a
    thread made for it alone (SBProcess.CreateOSPluginThread), so that
    `tangle bt` works with the listing off and never needs the contexts of
    all tasks. Such a thread lasts until the process stops again.

Invariants:
  - A task's thread id is a base + the task id, the base alternating
    between TASK_TID_BASE and 2 * TASK_TID_BASE from one stop to the next
    (not when the plugin reloads within a stop):
    lldb 16 keeps a plugin thread object whose id it saw at the previous
    stop, with that stop's name and queue, so a task whose wait changed
    would show the old one. A thread made for a bare context gets
    UNWIND_TID_BASE + n. Linux thread ids are below 2**22: no collision.
  - Registers carry their DWARF/eh_frame numbers and pc/sp/fp/ra their
    generic roles; lldb cannot unwind a plugin thread without them.
  - The real threads are never listed here: lldb keeps them first.
  - Task lists come from `provider(process)`, a list of TaskThread, or None
    when the table cannot be read; the default provider asks the engine
    (tangle_lldb_target). Tests may swap it. Everything is recomputed when
    the process's stop id changes.
  - lldb reloads tangle_lldb_os.py (and makes a new plugin object) whenever
    the setting is set; the state that must survive that lives here.
"""

import gc
import itertools
import os
import struct
import sys

import lldb

TASK_TID_BASE = 10 ** 12
UNWIND_TID_BASE = 9 * 10 ** 12

EM_X86_64 = 62
EM_AARCH64 = 183


def _reg(name, dwarf, offset, generic=None, alt=None, set_index=0, bits=64):
    info = {
        "name": name,
        "bitsize": bits,
        "offset": offset,
        "encoding": "uint",
        "format": "hex",
        "set": set_index,
        "gcc": dwarf,
        "ehframe": dwarf,
        "dwarf": dwarf,
    }
    if generic:
        info["generic"] = generic
    if alt:
        info["alt-name"] = alt
    return info


def _layout(names):
    """(name, dwarf, generic, alt) rows -> register info dict and dwarf -> offset."""
    regs, offsets = [], {}
    for i, (name, dwarf, generic, alt) in enumerate(names):
        regs.append(_reg(name, dwarf, i * 8, generic, alt))
        if dwarf is not None:
            offsets[dwarf] = i * 8
    return {"sets": ["General Purpose Registers"], "registers": regs}, offsets, len(names) * 8


_X86_64 = [
    ("rax", 0, None, None), ("rbx", 3, None, None), ("rcx", 2, "arg4", None),
    ("rdx", 1, "arg3", None), ("rsi", 4, "arg2", None), ("rdi", 5, "arg1", None),
    ("rbp", 6, "fp", "fp"), ("rsp", 7, "sp", "sp"), ("r8", 8, "arg5", None),
    ("r9", 9, "arg6", None), ("r10", 10, None, None), ("r11", 11, None, None),
    ("r12", 12, None, None), ("r13", 13, None, None), ("r14", 14, None, None),
    ("r15", 15, None, None), ("rip", 16, "pc", "pc"), ("rflags", 49, "flags", None),
]

_AARCH64 = (
    [("x%d" % i, i, "arg%d" % (i + 1) if i < 8 else None, None) for i in range(29)]
    + [("fp", 29, "fp", "x29"), ("lr", 30, "ra", "x30"), ("sp", 31, "sp", None),
       ("pc", 32, "pc", None)]
    + [("d%d" % i, 64 + i, None, None) for i in range(8, 16)]
)

# e_machine -> (register info, dwarf -> offset, data size, pc dwarf, sp dwarf)
ARCHES = {
    EM_X86_64: _layout(_X86_64) + (16, 7),
    EM_AARCH64: _layout(_AARCH64) + (32, 31),
}

TRIPLE_ARCH = {"x86_64": EM_X86_64, "aarch64": EM_AARCH64, "arm64": EM_AARCH64}


class TaskThread(object):
    """One suspended task (or saved context) as the plugin shows it."""

    __slots__ = ("id", "name", "wait", "arch", "pc", "sp", "regs", "saved_sp", "tid")

    def __init__(self, id, name, wait, arch, pc, sp, regs, saved_sp=None, tid=None):
        self.id = id          # task id (None: a context to unwind, task unknown)
        self.name = name      # task name
        self.wait = wait      # one line, "" if none
        self.arch = arch      # ELF e_machine
        self.pc = pc
        self.sp = sp
        self.regs = regs      # [(dwarf, value)] from the saved context, or a
                              # function returning them (decoded when asked)
        self.saved_sp = saved_sp
        self.tid = tid        # set by the model when shown

    def thread_name(self):
        if self.id is None:
            return "tangle: a task's frames"
        return "task %d %s" % (self.id, self.name) if self.name else "task %d" % self.id

    def thread_info(self):
        return {"tid": self.tid, "name": self.thread_name(), "queue": self.wait,
                "state": "stopped", "stop_reason": "none"}

    def register_data(self):
        arch = ARCHES.get(self.arch)
        if arch is None:
            return None
        _, offsets, size, pc_dwarf, sp_dwarf = arch
        words = [0] * (size // 8)
        regs = self.regs() if callable(self.regs) else self.regs
        for dwarf, value in list(regs) + [(pc_dwarf, self.pc), (sp_dwarf, self.sp)]:
            off = offsets.get(dwarf)
            if off is not None:
                words[off // 8] = value & 0xFFFFFFFFFFFFFFFF
        return struct.pack("<%dQ" % len(words), *words)


def process_arch(process):
    triple = process.GetTarget().GetTriple() or ""
    return TRIPLE_ARCH.get(triple.split("-")[0])


def regs_of(context):
    """[(dwarf, value)] of an engine context (copied: lldb may ask later)."""
    import tangle_lldb_engine
    return tangle_lldb_engine.context_regs(context)


def _engine_provider(process):
    import tangle_lldb_target
    return tangle_lldb_target.task_threads(process)


# Swappable for tests: process -> [TaskThread], or None.
provider = _engine_provider

# Whether the plugin lists every suspended task (tangle threads on|off).
listing = True

# (stop id, thread id base) of each process's latest list (see the
# invariants): the base changes with the stop, not when the plugin reloads.
_bases = {}

# Numbers threads made for bare contexts, never twice in a session: lldb
# would reuse a thread object (and its registers) it still has at the stop.
_made = itertools.count(1)

# Plugin objects by process unique id: commands tell from them whether
# lldb's thread list of this stop came through the plugin (it does not on
# the first stop of an attach: lldb builds that list before the modules and
# the plugin are there), and the unwinder adds its threads to them.
models = {}


class ThreadModel(object):
    """What one plugin object serves, refreshed at every stop."""

    def __init__(self, process, tasks=None):
        self.process = process
        self.stop_id = None
        self.ok = False        # the stop's list was made (the table read)
        self.by_tid = {}
        self.by_id = {}
        self.by_saved_sp = {}
        self.infos = []
        self.base = TASK_TID_BASE
        if tasks is not None:  # this stop's list, made already
            self._list(process.GetStopID(), tasks)
        models[process.GetUniqueID()] = self

    def _refresh(self):
        stop_id = self.process.GetStopID()
        if stop_id == self.stop_id:
            return
        # Hundreds of thousands of new objects: without the cycle collector,
        # which would walk them all again and again (no cycles are made).
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._list(stop_id)
        finally:
            if enabled:
                gc.enable()

    def _list(self, stop_id, tasks=None):
        if tasks is None and listing:
            try:
                tasks = provider(self.process)
            except Exception as e:  # never break lldb's thread list
                print("tangle: cannot list tasks: %s" % e, file=sys.stderr)
                tasks = None
        self.ok = tasks is not None or not listing
        tasks = tasks or []
        uid = self.process.GetUniqueID()
        last_stop, last_base = _bases.get(uid, (None, 2 * TASK_TID_BASE))
        self.base = last_base if last_stop == stop_id else 3 * TASK_TID_BASE - last_base
        _bases[uid] = (stop_id, self.base)
        for t in tasks:
            t.tid = self.base + t.id
        self.by_tid = dict((t.tid, t) for t in tasks)
        self.by_id = dict((t.id, t) for t in tasks)
        self.by_saved_sp = dict((t.saved_sp, t) for t in tasks if t.saved_sp)
        self.infos = [t.thread_info() for t in tasks]
        self.stop_id = stop_id

    def thread_info(self):
        self._refresh()
        return self.infos

    def register_info(self):
        arch = ARCHES.get(process_arch(self.process), ARCHES[EM_X86_64])
        return arch[0]

    def register_data(self, tid):
        self._refresh()
        t = self.by_tid.get(tid)
        return t.register_data() if t else None

    def create_thread(self, tid):
        self._refresh()
        t = self.by_tid.get(tid)
        return t.thread_info() if t else None

    def thread_of(self, task):
        """The lldb thread showing a TaskThread: listed, or made now."""
        self._refresh()
        shown = self.by_id.get(task.id) if task.id is not None else None
        if shown is None and task.saved_sp:
            shown = self.by_saved_sp.get(task.saved_sp)
            if shown is not None and shown.id is None and task.id is not None:
                shown = None  # a bare context's thread: make the task's own
        if shown is not None:
            return self.process.GetThreadByID(shown.tid)
        if task.id is not None:
            task.tid = self.base + task.id
            self.by_id[task.id] = task
        else:
            task.tid = UNWIND_TID_BASE + next(_made)
        self.by_tid[task.tid] = task
        if task.saved_sp:
            self.by_saved_sp[task.saved_sp] = task
        return self.process.CreateOSPluginThread(task.tid, 0)

    def thread_for(self, context):
        """The lldb thread showing a saved context (the engine's unwinder):
        the shown task's, or one made for it now."""
        return self.thread_of(TaskThread(None, "", "", context.arch, context.pc, context.sp,
                                         regs_of(context), context.saved_sp))


def model(process):
    """The plugin object serving process now, or None."""
    m = models.get(process.GetUniqueID())
    return m if m is not None and m.process.IsValid() else None


def task_count(process):
    """Task threads the plugin listed at this stop, or None."""
    m = model(process)
    if m is None or m.stop_id != process.GetStopID():
        return None
    return len(m.infos)


def served(process):
    """True when the plugin made this stop's thread list."""
    m = model(process)
    return m is not None and m.ok and m.stop_id == process.GetStopID()


# ---- Loading the plugin ---------------------------------------------------------

SETTING = "target.process.python-os-plugin-path"
PLUGIN = os.path.join(os.path.dirname(os.path.realpath(__file__)), "tangle_lldb_os.py")


def _command(debugger, line):
    result = lldb.SBCommandReturnObject()
    debugger.GetCommandInterpreter().HandleCommand(line, result)
    return result.Succeeded()


def plugin_set(debugger):
    """Whether the selected target (or the default for new ones) loads us."""
    value = lldb.SBDebugger.GetInternalVariableValue(SETTING, debugger.GetInstanceName())
    return value is not None and value.GetSize() > 0 and \
        value.GetStringAtIndex(0).strip('"') == PLUGIN


def load_plugin(debugger, everywhere=True):
    """(Re)load the plugin into the selected target's process; with
    everywhere, also for targets created later. Setting the path makes lldb
    create a new plugin object and rebuild its thread list."""
    value = '"%s"' % PLUGIN
    global _loading
    _loading, was = True, _loading
    try:
        if everywhere:
            _command(debugger, "settings set -g %s %s" % (SETTING, value))
        if debugger.GetSelectedTarget().IsValid():
            _command(debugger, "settings set %s %s" % (SETTING, value))
    finally:
        _loading = was


# True while this module (re)loads the plugin itself.
_loading = False


class NotReady(Exception):
    """The plugin's constructor raises it while the table cannot be read
    (see new_model); lldb then has no plugin for the process and tries
    again at the next module load. Never printed (_quiet)."""


def _quiet(hook):
    def excepthook(kind, value, tb):
        if kind is not NotReady:  # lldb prints a failed constructor's error
            hook(kind, value, tb)
    excepthook.tangle = True
    return excepthook


if not getattr(sys.excepthook, "tangle", False):
    sys.excepthook = _quiet(sys.excepthook)


def new_model(process):
    """The model of a new plugin object (OperatingSystemPlugIn.__init__).

    lldb makes the plugin by itself, before any command can, whenever a
    process without one loads modules: on an attach first for the program
    alone, then for its libraries, all inside the attach's first stop,
    whose thread list lldb 16 has made already and does not make again.
    So, on a live process:
      - while the table cannot be read (libtangle not loaded yet) the
        constructor raises NotReady: no plugin, and lldb asks again at the
        next module load;
      - once it can, the plugin path is set again from here, which makes
        lldb drop the stop's thread list and list the threads anew, with
        the tasks (it also makes a plugin object of its own first, with
        _loading set, which this one replaces).
    On a core lldb makes the plugin after loading every module and before
    it lists the threads; when this module loads the plugin itself (a
    tangle command, `settings set`), lldb lists the threads anew anyway."""
    global _loading
    if _loading or process.GetPluginName() == "elf-core":
        return ThreadModel(process)
    tasks = None
    if listing:
        try:
            tasks = provider(process)
        except Exception:  # never break lldb: the next load tries again
            tasks = None
        if tasks is None:
            raise NotReady("no tangle debug table (yet)")
    _loading = True
    try:
        lldb.SBDebugger.SetInternalVariable(
            SETTING, '"%s"' % PLUGIN, process.GetTarget().GetDebugger().GetInstanceName())
    finally:
        _loading = False
    return ThreadModel(process, tasks)
