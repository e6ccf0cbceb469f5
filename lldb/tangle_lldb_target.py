"""The engine's view of an lldb process: memory, symbols, unwinding, "now".

Everything the engine needs from lldb, and nothing more:
  - read: one SBProcess.ReadMemory per requested range. A core lacks the
    read-only pages of mapped files, so a range the process cannot supply
    is read region by region, falling back to the target's files
    (SBTarget.ReadMemory), and stops at the first unreadable byte.
  - lookup: SBTarget.FindSymbols; for tangle_debug_root in a stripped
    binary, the load address of a module's .tangle_debug section.
  - unwinding: a task through its thread from the OS plugin, a real
    thread by its kernel tid; lldb's own unwinder and symbolizer.
  - now: CLOCK_MONOTONIC for a live process, the core file's mtime for a
    core (as the CLI does).

Sessions are cached per process and stop id: the OS plugin and the
commands share one decoded view of a stop.
"""

import functools
import os
import time

import lldb

import tangle_lldb_core
import tangle_lldb_engine as engine
import tangle_lldb_threads as threads

ROOT_SYMBOL = "tangle_debug_root"
ROOT_SECTION = ".tangle_debug"
FRAMES_MAX = 256


class Memory(object):
    def __init__(self, process):
        self.process = process
        self.target = process.GetTarget()
        self.err = lldb.SBError()  # never read on the fast path: one for all

    def read(self, addr, size):
        data = self.process.ReadMemory(addr, size, self.err) if size else b""
        if data is not None and len(data) == size:
            return data
        return self._read_pieces(addr, size)

    def _read_pieces(self, addr, size):
        out, pos, end = [], addr, addr + size
        while pos < end:
            region = lldb.SBMemoryRegionInfo()
            stop = end
            if self.process.GetMemoryRegionInfo(pos, region).Success() and \
                    region.GetRegionEnd() > pos:
                stop = min(end, region.GetRegionEnd())
            want = stop - pos
            chunk = self._read_one(pos, want)
            if not chunk:
                break
            out.append(chunk[:want])
            pos += min(len(chunk), want)
            if len(chunk) < want:
                break
        return b"".join(out)

    def _read_one(self, addr, size):
        err = lldb.SBError()
        data = self.process.ReadMemory(addr, size, err)
        if err.Success() and data:
            return data
        err = lldb.SBError()
        data = self.target.ReadMemory(lldb.SBAddress(addr, self.target), size, err)
        if err.Success() and data:
            return data
        return None

    def lookup(self, name):
        for ctx in self.target.FindSymbols(name):
            addr = ctx.GetSymbol().GetStartAddress().GetLoadAddress(self.target)
            if addr != lldb.LLDB_INVALID_ADDRESS and addr:
                return addr
        if name == ROOT_SYMBOL:
            for module in self.target.module_iter():
                section = module.FindSection(ROOT_SECTION)
                if section.IsValid():
                    addr = section.GetLoadAddress(self.target)
                    if addr != lldb.LLDB_INVALID_ADDRESS:
                        return addr
        return None


def _function(frame):
    """The frame's function; "" for lldb's made-up names in stripped code
    (___lldb_unnamed_symbolN), so the engine shows the pc as the CLI does."""
    name = frame.GetFunctionName() or ""
    if not frame.GetFunction().IsValid():
        symbol = frame.GetSymbol()
        if not symbol.IsValid() or symbol.IsSynthetic():
            return ""
    return name


def frames_of(thread, limit=FRAMES_MAX):
    """lldb's frames of a thread as engine frames, innermost first."""
    out = []
    for i in range(min(thread.GetNumFrames(), limit)):
        frame = thread.GetFrameAtIndex(i)
        line = frame.GetLineEntry()
        spec = line.GetFileSpec() if line.IsValid() else None
        out.append(engine.FrameInfo(
            frame.GetPC(),
            function=_function(frame),
            file=spec.fullpath if spec and spec.IsValid() and spec.fullpath else "",
            line=line.GetLine() if line.IsValid() else 0,
            inlined=frame.IsInlined()))
    return out


def plugin_model(process):
    """The plugin object serving process, loading the plugin if need be."""
    model = threads.model(process)
    if model is None:
        threads.load_plugin(process.GetTarget().GetDebugger(), everywhere=False)
        process.GetNumThreads()
        model = threads.model(process)
    return model


def task_thread(info):
    """A TaskThread for an engine TaskInfo of a suspended task."""
    ctx = info.context
    return threads.TaskThread(info.id, info.name.decode("utf-8", "replace"),
                              info.wait.decode("utf-8", "replace"), ctx.arch, ctx.pc, ctx.sp,
                              functools.partial(engine.context_regs, ctx), ctx.saved_sp)


class Unwind(object):
    """Tasks through the plugin's threads, real threads by kernel tid."""

    def __init__(self, process):
        self.process = process

    def task(self, context):
        model = plugin_model(self.process)
        if model is None:
            return None
        thread = model.thread_for(context)
        return frames_of(thread) if thread.IsValid() else None

    def thread(self, tid):
        thread = self.process.GetThreadByID(tid)
        return frames_of(thread) if thread.IsValid() else None


def is_core(process):
    return process.GetPluginName() == "elf-core"


def _exe_path(process):
    """The program, as the CLI names it: /proc/PID/exe when live, else the
    target's executable."""
    if not is_core(process):
        try:
            return os.readlink("/proc/%d/exe" % process.GetProcessID())
        except OSError:
            pass
    spec = process.GetTarget().GetExecutable()
    return spec.fullpath if spec.IsValid() else ""


def _name(first, exe):
    """The target's name as the CLI gives it: "CORE (EXE)" or "pid N (EXE)"
    (the JSON keeps its base name)."""
    return "%s (%s)" % (first, exe) if exe else first


def now_for(process):
    """(now_kind, now, target name) as the CLI gives them."""
    exe = _exe_path(process)
    if is_core(process):
        path, mtime = tangle_lldb_core.core_mtime_ns(process)
        if path is not None:
            return engine.NOW_REAL, mtime, _name(path, exe)
        return engine.NOW_TABLE, 0, _name("core", exe)
    return (engine.NOW_MONO, time.clock_gettime_ns(time.CLOCK_MONOTONIC),
            _name("pid %d" % process.GetProcessID(), exe))


_sessions = {}  # process unique id -> (stop id, Session or engine.Error)


def session_for(process):
    """The engine session of process's current stop; raises engine.Error."""
    if not process.IsValid():
        raise engine.Error("no process: load a core file or attach first")
    if not lldb.SBDebugger.StateIsStoppedState(process.GetState()):
        raise engine.Error("the process is running: interrupt it first")
    key = process.GetUniqueID()
    stop_id = process.GetStopID()
    cached = _sessions.get(key)
    if cached and cached[0] == stop_id:
        if isinstance(cached[1], engine.Error):
            raise cached[1]
        return cached[1]
    memory = Memory(process)
    unwind = Unwind(process)
    now_kind, now, target = now_for(process)
    try:
        session = engine.Session(memory.read, memory.lookup, unwind.task, unwind.thread,
                                 now_kind=now_kind, now=now, target=target)
    except engine.Error as e:
        _sessions[key] = (stop_id, e)
        raise
    _sessions[key] = (stop_id, session)
    return session


def forget(process):
    """Drop the cached session (the table may have appeared since)."""
    _sessions.pop(process.GetUniqueID(), None)


def task_threads(process):
    """The OS plugin's provider: every suspended task as a TaskThread; None
    when the table cannot be read (yet: a command will look again)."""
    try:
        session = session_for(process)
    except engine.Error:
        forget(process)
        return None
    return [threads.TaskThread(r.id, r.name, r.wait, r.arch, r.pc, r.sp, r.regs, r.saved_sp)
            for r in session.task_rows() if r.suspended]
