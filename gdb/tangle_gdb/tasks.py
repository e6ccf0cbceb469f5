"""Selecting a task: `tangle task ID` and `tangle apply`.

A suspended task is shown through the bridge (frames.py) on the selected
thread and its innermost frame outside the runtime is selected, so that
`info locals` shows the task's own variables at once; a running task is
shown by switching to its worker's thread. The selection lasts until
`tangle task none`, or until the target resumes (cont event).
"""

import os

import gdb

from . import engine, frames, session


def label(info):
    """'12 "transfer-a" (waiting for mutex "ledger")' for a TaskInfo."""
    name = engine.text(info.name)
    what = engine.text(info.wait) or engine.TASK_STATES.get(info.state, "?")
    return '%d "%s" (%s)' % (info.id, name, what)


def context_of(info):
    c = info.context
    return frames.Context(c.arch, c.pc, c.sp, c.saved_sp,
                          [(c.regs[i].dwarf, c.regs[i].value)
                           for i in range(min(c.count, engine.CONTEXT_MAX))])


def _runtime_file_dir(pc):
    try:
        sal = gdb.find_pc_line(pc)
        if sal.symtab is not None:
            return os.path.dirname(sal.symtab.fullname())
    except gdb.error:
        pass
    return None


def _select_user_frame(info):
    """Select the task's innermost frame that is not the runtime's: not in
    the shared library (or, linked statically, the source directory) of
    the switch routine. Falls back to the task's innermost frame."""
    resume = info.context.resume_pc or info.context.pc
    lib = gdb.solib_name(resume) if resume else None
    rdir = _runtime_file_dir(resume) if resume else None
    first = gdb.newest_frame().older()
    f = first
    depth = 0
    while f is not None and depth < 64:
        pc = f.pc()
        in_lib = lib is not None and gdb.solib_name(pc) == lib
        in_dir = False
        if rdir is not None:
            sal = f.find_sal()
            if sal.symtab is not None:
                in_dir = os.path.dirname(sal.symtab.fullname()) == rdir
        if not in_lib and not in_dir and f.name() is not None:
            f.select()
            return f
        f = f.older()
        depth += 1
    if first is not None:
        first.select()
    return first


def select(info):
    """Show the task in gdb; raises gdb.GdbError if it has no stack."""
    if info.suspended:
        frames.select(context_of(info), (info.id, label(info)))
        _select_user_frame(info)
        return
    if info.state == engine.TASK_RUNNING and info.worker_tid:
        thread = frames.thread_by_lwp(info.worker_tid)
        if thread is None:
            raise gdb.GdbError("tangle: task %d runs on LWP %d, which gdb "
                               "does not know" % (info.id, info.worker_tid))
        frames.clear()
        thread.switch()
        return
    raise gdb.GdbError("tangle: task %s has no stack to show"
                       % label(info))


def selected_id():
    sel = frames.active()
    return sel[0] if sel else None


def lookup(arg):
    """TaskInfo for a task id string; gdb.GdbError if there is none."""
    try:
        task_id = int(arg, 0)
    except ValueError:
        raise gdb.GdbError("tangle: not a task id: %s" % arg)
    info = session.get().task(task_id)
    if info is None:
        raise gdb.GdbError("tangle: no task %d" % task_id)
    return info
