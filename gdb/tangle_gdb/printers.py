"""Pretty-printers and convenience functions.

Printers show what the engine says of an object
(tangle_session_describe_waiters): a mutex its name, owner and the tasks
waiting for it in queue order (the first MAX_WAITERS); a task its id,
name, state and wait.
They never open a session for a value the engine cannot describe and fall
back to gdb's own printing on any failure, so printing stays safe when the
program has no table or is not running.
"""

import gdb
import gdb.printing

from . import frames, session

# struct tag -> printed by value (the object record is inside)
_BY_VALUE = ("tangle_mutex", "tangle_rwlock", "tangle_sem", "tangle_notify")
# struct tag -> printed through a pointer (opaque types)
_BY_POINTER = ("tangle_chan", "tangle_task")


MAX_WAITERS = 5   # waiting tasks a printed object lists ("… and N more")


def _describe(address):
    if not address:
        return None
    try:
        s = session.get()
    except gdb.GdbError:
        return None
    return s.describe(address, MAX_WAITERS)


class _Printer:
    def __init__(self, text):
        self.text = text

    def to_string(self):
        return self.text


class _Sub(gdb.printing.SubPrettyPrinter):
    pass


class TanglePrinters(gdb.printing.PrettyPrinter):
    def __init__(self):
        super().__init__("tangle", [_Sub(n) for n in _BY_VALUE + _BY_POINTER])
        self._enabled = {}

    def _on(self, tag):
        for sub in self.subprinters:
            if sub.name == tag:
                return sub.enabled
        return False

    def __call__(self, val):
        try:
            t = val.type.strip_typedefs()
            if t.code == gdb.TYPE_CODE_STRUCT:
                if t.tag not in _BY_VALUE or not self._on(t.tag):
                    return None
                address = val.address
                if address is None:
                    return None
                text = _describe(int(address))
                return _Printer(text) if text else None
            if t.code == gdb.TYPE_CODE_PTR:
                target = t.target().strip_typedefs()
                if target.tag not in _BY_POINTER or not self._on(target.tag):
                    return None
                address = int(val)
                if address == 0:
                    return None
                text = _describe(address)
                return _Printer("0x%x %s" % (address, text)) if text else None
        except (gdb.error, RuntimeError):
            return None
        return None


_task_ptr = None


def task_pointer_type():
    """tangle_task * from the program's debug info (cached), else void *."""
    global _task_ptr
    if _task_ptr is None:
        for name in ("tangle_task", "struct tangle_task"):
            try:
                _task_ptr = gdb.lookup_type(name).pointer()
                break
            except gdb.error:
                continue
        else:
            return gdb.lookup_type("void").pointer()
    return _task_ptr


def _forget_types(*_args):
    global _task_ptr
    _task_ptr = None


def _task_value(address):
    return gdb.Value(address).cast(task_pointer_type())


def _task_id_arg(name, args):
    """The one task id argument of $NAME(ID), or gdb.GdbError."""
    if len(args) != 1:
        raise gdb.GdbError("tangle: $%s takes one argument, a task id (got %d)"
                           % (name, len(args)))
    v = args[0]
    try:
        code = v.type.strip_typedefs().code
        if code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_CHAR, gdb.TYPE_CODE_BOOL,
                    gdb.TYPE_CODE_ENUM):
            return int(v)
    except gdb.error:
        pass
    raise gdb.GdbError("tangle: $%s takes a task id, a number (got %s)"
                       % (name, _shown(v)))


def _shown(v):
    try:
        return "%s of type %s" % (v.format_string(raw=True, max_elements=20),
                                  v.type)
    except (gdb.error, AttributeError):
        return "a value of another type"


class TaskFunction(gdb.Function):
    """$tangle_task(ID): the task's record, as a tangle_task * value.

Usable wherever gdb takes an expression: print $tangle_task(12),
print *$tangle_task(12), or as an argument to a program function."""

    def __init__(self):
        super().__init__("tangle_task")

    def invoke(self, *args):
        task_id = _task_id_arg("tangle_task", args)
        info = session.get().task(task_id)
        if info is None:
            raise gdb.GdbError("tangle: no task %d" % task_id)
        return _task_value(info.address)


class CurrentTaskFunction(gdb.Function):
    """$tangle_current_task(): the task selected with `tangle task`, or the
task running on the selected thread, as a tangle_task * (0 if none).

A task selection lasts while its thread stays selected: after `thread N`
it is the task running on thread N."""

    def __init__(self):
        super().__init__("tangle_current_task")

    def invoke(self, *args):
        if args:
            raise gdb.GdbError("tangle: $tangle_current_task takes no "
                               "arguments (got %d)" % len(args))
        s = session.get()
        sel = frames.active()
        info = s.task(sel[0]) if sel else None
        if info is None:
            thread = gdb.selected_thread()
            if thread is not None:
                info = s.running_on(frames.lwp_of(thread))
        return _task_value(info.address if info is not None else 0)


def install():
    gdb.printing.register_pretty_printer(None, TanglePrinters(), replace=True)
    TaskFunction()
    CurrentTaskFunction()
    gdb.events.new_objfile.connect(_forget_types)
    clear = getattr(gdb.events, "clear_objfiles", None)
    if clear is not None:
        clear.connect(_forget_types)
