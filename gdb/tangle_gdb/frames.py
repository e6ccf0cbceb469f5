"""Task frames in gdb's own frame chain.

A suspended task has no thread. To show its stack with gdb's own `bt`,
`frame N`, `up`, `down`, `info locals` and `print`, a Python unwinder takes
over the innermost frame (level 0) of one thread — the "bridge" — and gives
as its caller the task's saved context: pc, sp and the callee-saved
registers the stack switch pushed. gdb then unwinds the task's frames with
its usual DWARF unwinder. The bridge's frame id uses the task's saved sp, so
the task's frames (higher on the task's stack) are outer to it; a frame
filter hides the bridge from `bt`. No register is ever written, so this
works on core dumps as well as live processes.

Invariants: at most one bridge at a time, on one thread (by ptid); every
change of the bridge invalidates gdb's frame cache; helpers that switch the
bridge or the thread for a moment put back the user's thread, bridge and
selected frame level.
"""

import gdb
import gdb.unwinder

# ELF e_machine -> {DWARF register number: gdb register name}.
EM_X86_64 = 62
EM_AARCH64 = 183
_REGS = {
    EM_X86_64: dict(
        [(0, "rax"), (1, "rdx"), (2, "rcx"), (3, "rbx"), (4, "rsi"),
         (5, "rdi"), (6, "rbp"), (7, "rsp"), (16, "rip")]
        + [(n, "r%d" % n) for n in range(8, 16)]),
    EM_AARCH64: dict(
        [(n, "x%d" % n) for n in range(31)] + [(31, "sp"), (32, "pc")]),
}
_PC_SP = {EM_X86_64: ("rip", "rsp"), EM_AARCH64: ("pc", "sp")}


class Context:
    """A suspended task's registers (from tangle_task_info.context)."""

    __slots__ = ("arch", "pc", "sp", "saved_sp", "regs")

    def __init__(self, arch, pc, sp, saved_sp, regs):
        self.arch = arch          # ELF e_machine
        self.pc = pc              # where it resumes
        self.sp = sp              # its sp once resumed
        self.saved_sp = saved_sp  # the saved stack pointer (frame id)
        self.regs = regs          # [(dwarf number, value)]


class _Bridge:
    __slots__ = ("ptid", "context", "label")

    def __init__(self, ptid, context, label):
        self.ptid = ptid
        self.context = context
        self.label = label


_bridge = None
_u64 = {}   # gdb.Architecture name -> 64-bit unsigned gdb.Type


def _u64_type(arch):
    name = arch.name()
    t = _u64.get(name)
    if t is None:
        try:
            t = arch.integer_type(64, False)
        except (AttributeError, gdb.error, ValueError):
            t = gdb.lookup_type("unsigned long long")
        _u64[name] = t
    return t


class _FrameId:
    """What create_unwind_info takes: sp and pc attributes."""

    __slots__ = ("sp", "pc")


class _TaskUnwinder(gdb.unwinder.Unwinder):
    """Makes the bridge thread's innermost frame's caller the task."""

    def __init__(self):
        super().__init__("tangle-task")

    def __call__(self, pending):
        b = _bridge
        if b is None or pending.level() != 0:
            return None
        thread = gdb.selected_thread()
        if thread is None or thread.ptid != b.ptid:
            return None
        try:
            return self._bridge(pending, b.context)
        except (gdb.error, ValueError, TypeError):
            return None   # gdb unwinds the thread as usual

    @staticmethod
    def _bridge(pending, ctx):
        names = _REGS.get(ctx.arch)
        if names is None:
            return None
        u64 = _u64_type(pending.architecture())
        fid = _FrameId()
        # gdb 13 silently ignores plain ints here: use gdb.Value.
        fid.sp = gdb.Value(ctx.saved_sp).cast(u64)
        fid.pc = pending.read_register(_PC_SP[ctx.arch][0]).cast(u64)
        info = pending.create_unwind_info(fid)
        pc_name, sp_name = _PC_SP[ctx.arch]
        for dwarf, value in ctx.regs:
            name = names.get(dwarf)
            if name is not None and name not in (pc_name, sp_name):
                info.add_saved_register(name, gdb.Value(value).cast(u64))
        info.add_saved_register(pc_name, gdb.Value(ctx.pc).cast(u64))
        info.add_saved_register(sp_name, gdb.Value(ctx.sp).cast(u64))
        return info


class _HideBridge:
    """Frame filter: `bt` does not show the bridge frame."""

    def __init__(self):
        self.name = "tangle-hide-bridge"
        self.priority = 1000
        self.enabled = True

    def filter(self, frames):
        if not on_selected_thread():
            return frames
        return (f for f in frames if f.inferior_frame().level() != 0)


def install():
    gdb.unwinder.register_unwinder(None, _TaskUnwinder(), replace=True)
    gdb.frame_filters["tangle-hide-bridge"] = _HideBridge()
    gdb.events.before_prompt.connect(check_thread)


def active():
    """The label of the selected task's bridge, or None. A selection
    belongs to the thread it was made on: once another thread is selected
    (`thread N`, a frontend's thread switch) it is dropped, so that `bt`,
    `tangle task` and $tangle_current_task() agree."""
    check_thread()
    return _bridge.label if _bridge is not None else None


def check_thread(*_args):
    """Drop the task selection if its thread is no longer the selected one
    (also run before every prompt)."""
    b = _bridge
    if b is None or b.label is None:
        return
    thread = gdb.selected_thread()
    if thread is None or thread.ptid != b.ptid:
        _set(None)


def on_selected_thread():
    b = _bridge
    if b is None:
        return False
    thread = gdb.selected_thread()
    return thread is not None and thread.ptid == b.ptid


def _selected_level():
    try:
        return gdb.selected_frame().level()
    except gdb.error:
        return None


def _select_level(level):
    if level is None:
        return
    try:
        f = gdb.newest_frame()
        while f is not None and f.level() < level:
            f = f.older()
        if f is not None:
            f.select()
    except gdb.error:
        pass


def _set(bridge):
    global _bridge
    _bridge = bridge
    gdb.invalidate_cached_frames()


def select(context, label, thread=None):
    """Show the task with this context on thread (default: the selected
    one) and select its innermost frame. label is what `tangle task` shows
    as the selection."""
    thread = thread or gdb.selected_thread()
    if thread is None:
        raise gdb.GdbError("tangle: no thread to show the task on")
    if thread != gdb.selected_thread():
        thread.switch()
    _set(_Bridge(thread.ptid, context, label))


def clear():
    """Drop the bridge (if any); gdb's frames are the threads' again."""
    if _bridge is not None:
        _set(None)


def _frame_row(frame):
    """(pc, function, file, line, inlined) of a gdb.Frame."""
    pc = frame.pc()
    name = frame.name() or ""
    sal = frame.find_sal()
    path, line = "", 0
    if sal is not None and sal.symtab is not None:
        try:
            path = sal.symtab.fullname() or sal.symtab.filename
        except gdb.error:
            path = sal.symtab.filename
        line = sal.line
    return (pc, name, path, line, frame.type() == gdb.INLINE_FRAME)


def _walk(frame, limit):
    rows = []
    try:
        while frame is not None and len(rows) < limit:
            rows.append(_frame_row(frame))
            frame = frame.older()
    except gdb.error:
        pass
    return rows


class Keep:
    """Puts back the selected thread, the bridge and the frame level."""

    def __enter__(self):
        self.thread = gdb.selected_thread()
        self.bridge = _bridge
        self.level = _selected_level()
        return self

    def __exit__(self, *exc):
        try:
            if self.thread is not None and self.thread.is_valid() \
                    and self.thread != gdb.selected_thread():
                self.thread.switch()
            _set(self.bridge)
            _select_level(self.level)
        except gdb.error:
            pass
        return False


def task_frames(context, limit):
    """Frames of a suspended task, innermost first, as rows (see
    _frame_row), unwound by gdb through the bridge on the selected thread."""
    if gdb.selected_thread() is None:
        return None
    with Keep():
        _set(_Bridge(gdb.selected_thread().ptid, context, None))
        return _walk(gdb.newest_frame().older(), limit)


def lwp_of(thread):
    """A thread's kernel tid (a core's threads may carry it as the pid)."""
    return thread.ptid[1] or thread.ptid[0]


def thread_by_lwp(lwp):
    inferior = gdb.selected_inferior()
    for thread in inferior.threads():
        if thread.ptid[1] == lwp or (thread.ptid[1] == 0
                                     and thread.ptid[0] == lwp):
            return thread
    return None


def thread_frames(lwp, limit):
    """Frames of the thread with this kernel tid, innermost first."""
    thread = thread_by_lwp(lwp)
    if thread is None:
        return None
    with Keep():
        thread.switch()
        _set(None)
        return _walk(gdb.newest_frame(), limit)
