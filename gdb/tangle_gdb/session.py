"""One engine session per stop of the target.

A session is the engine's decoded view of the target (tangle_session). It
is opened on first use after the target stopped (or a core was loaded) and
dropped on anything that may change what it decoded: the target resuming,
stopping, exiting, loading objfiles, new threads (a new core), memory or
register writes, inferior calls. Everything the engine needs from gdb
(callbacks) lives as long as the session.
"""

import ctypes
import os

import gdb

from . import engine, target

_lib = None          # the engine (CDLL), once loaded
_lib_error = None    # engine.Error when it could not be loaded
_lib_path = None
_current = None      # the open Session, or None


def load_engine(pkg_parent, hints=()):
    """Load the engine once; return a line to show (the error, or a note
    on how it was found), or None."""
    global _lib, _lib_error, _lib_path
    note = None
    if _lib is None and _lib_error is None:
        try:
            _lib, _lib_path, note = engine.load(pkg_parent, hints)
        except engine.Error as e:
            _lib_error = e
    return str(_lib_error) if _lib_error else note


def lib():
    if _lib is None:
        raise gdb.GdbError(str(_lib_error or "tangle: engine not loaded"))
    return _lib


def lib_path():
    return _lib_path


def usage(command=None):
    """The engine's usage text for command (all commands if None), or ""."""
    if _lib is None:
        return ""
    raw = _lib.tangle_inspect_usage(command.encode() if command else None)
    return engine.text(raw)


def option_takes_value(word):
    """Whether the engine's option `word` takes the next word as its value
    (the engine's rule; False without an engine that says)."""
    fn = getattr(_lib, "tangle_inspect_option_takes_value", None)
    return bool(fn) and fn(word.encode()) == 1


class Session:
    def __init__(self, inferior):
        lib_ = lib()
        self.lib = lib_
        self.inferior = inferior
        self.key = _key(inferior)
        self.kind = target.kind(inferior)
        if self.kind is None:
            raise gdb.GdbError("tangle: no process (run the program, attach "
                               "to it, or load a core dump)")
        self.callbacks = target.Callbacks(inferior)
        self.core = target.core_path() if self.kind == "core" else None
        now_kind, now = target.now(self.kind, self.core)
        torn = any(t.is_running() for t in inferior.threads())
        self.target_name = _target_name(self.kind, inferior, self.core)
        self.options = engine.Options(0, now_kind, now, 1 if torn else 0,
                                      self.target_name)
        handle = ctypes.c_void_p()
        err = lib_.tangle_session_open(ctypes.byref(self.callbacks.reader),
                                       ctypes.byref(self.callbacks.unwinder),
                                       ctypes.byref(self.options),
                                       ctypes.byref(handle))
        if err:
            raise gdb.GdbError(str(engine.take_error(lib_, err)))
        self.handle = handle
        self._ids = None        # task ids, in id order
        self._on_thread = None  # kernel tid -> id of the task running there

    def close(self):
        if self.handle:
            self.lib.tangle_session_free(self.handle)
            self.handle = None

    def run(self, argv):
        """Run one engine command: (status, text)."""
        args = [a.encode("utf-8", "surrogateescape") for a in argv]
        arr = (ctypes.c_char_p * (len(args) + 1))(*args, None)
        status = ctypes.c_int(2)
        ptr = self.lib.tangle_session_run(self.handle, len(args), arr,
                                          ctypes.byref(status))
        if not ptr:
            return 2, "tangle: out of memory"
        try:
            out = ctypes.string_at(ptr).decode("utf-8", "replace")
        finally:
            self.lib.tangle_inspect_free(ptr)
        return status.value, out

    def task(self, task_id):
        info = engine.TaskInfo()
        if self.lib.tangle_session_task_by_id(self.handle, task_id,
                                              ctypes.byref(info)) != 0:
            return None
        return info

    def _list(self):
        """Every task's id, and which task runs on which thread, from the
        engine's decoded records in one call (tangle_session_task_briefs):
        no target memory is read, unlike task_at, which reads each task's
        saved context (minutes on a core of 100,000 tasks)."""
        count = self.lib.tangle_session_task_count(self.handle)
        ids, on_thread = [], {}
        briefs = getattr(self.lib, "tangle_session_task_briefs", None)
        if briefs is not None:
            arr = (engine.TaskBrief * max(count, 1))()
            got = briefs(self.handle, 0, arr, count)
            for i in range(got):
                b = arr[i]
                ids.append(b.id)
                if b.state == engine.TASK_RUNNING and b.worker_tid:
                    on_thread[b.worker_tid] = b.id
        else:   # an older engine: the slow way
            for i in range(count):
                info = engine.TaskInfo()
                if self.lib.tangle_session_task_at(self.handle, i,
                                                   ctypes.byref(info)) == 0:
                    ids.append(info.id)
                    if info.state == engine.TASK_RUNNING and info.worker_tid:
                        on_thread[info.worker_tid] = info.id
        self._ids, self._on_thread = ids, on_thread

    def task_ids(self):
        """Live task ids in id order."""
        if self._ids is None:
            self._list()
        return self._ids

    def running_on(self, lwp):
        """The task running on the thread with this kernel tid (TaskInfo,
        the only task whose record is read in full), or None."""
        if self._on_thread is None:
            self._list()
        task_id = self._on_thread.get(lwp)
        return self.task(task_id) if task_id is not None else None

    def describe(self, address, max_waiters=0):
        """The engine's line for a task or object; with max_waiters, an
        object's waiting tasks too (tangle_session_describe_waiters)."""
        buf = ctypes.create_string_buffer(1024)
        fn = getattr(self.lib, "tangle_session_describe_waiters", None)
        if max_waiters and fn is not None:
            rc = fn(self.handle, address, max_waiters, buf, len(buf))
        else:
            rc = self.lib.tangle_session_describe(self.handle, address, buf,
                                                  len(buf))
        if rc != 0:
            return None
        return engine.text(buf.value)


def _key(inferior):
    return (inferior.num, inferior.pid)


def _target_name(kind, inferior, core):
    """How the CLI names the same target (the JSON's "target"): "CORE (EXE)"
    for a core, "pid N (EXE)" for a process, with real paths: give the CLI
    real paths too for byte-identical JSON."""
    exe = inferior.progspace.filename or ""
    exe = os.path.realpath(exe) if exe else ""
    if kind == "core":
        return ("%s (%s)" % (core or "", exe)).encode("utf-8",
                                                      "surrogateescape")
    if kind == "live":
        try:
            exe = os.readlink("/proc/%d/exe" % inferior.pid)
        except OSError:
            pass
    name = "pid %d" % inferior.pid + (" (%s)" % exe if exe else "")
    return name.encode("utf-8", "surrogateescape")


def get():
    """The session for the selected inferior, opened if needed."""
    global _current
    inferior = gdb.selected_inferior()
    if _current is not None and _current.key != _key(inferior):
        invalidate()
    if _current is None:
        _current = Session(inferior)
    return _current


def peek():
    """The open session, if any, without opening one."""
    if _current is not None and _current.key == _key(gdb.selected_inferior()):
        return _current
    return None


def invalidate(*_args):
    global _current
    if _current is not None:
        _current.close()
        _current = None


def connect_events():
    ev = gdb.events
    for name in ("stop", "cont", "exited", "new_objfile", "clear_objfiles",
                 "new_thread", "memory_changed", "register_changed",
                 "inferior_call", "new_inferior", "inferior_deleted"):
        registry = getattr(ev, name, None)
        if registry is not None:
            registry.connect(invalidate)


def engine_dir():
    return os.path.dirname(_lib_path) if _lib_path else None
