"""Test-only task provider for toy_tasks: reads its toy_table and decodes
each saved frame (r15 r14 r13 r12 rbx rbp return) into a TaskThread, so the
OS plugin can be checked without libtangle. Load with `command script
import` after tangle_lldb; it replaces tangle_lldb_threads.provider."""

import struct

import lldb
import tangle_lldb_target
import tangle_lldb_threads as threads

FRAME_REGS = [15, 14, 13, 12, 3, 6]


def toy_tasks(process):
    target = process.GetTarget()
    table = target.FindFirstGlobalVariable("toy_table")
    count = target.FindFirstGlobalVariable("toy_count").GetValueAsUnsigned()
    memory = tangle_lldb_target.Memory(process)  # rodata comes from the file
    out = []
    for i in range(min(count, table.GetNumChildren())):
        t = table.GetChildAtIndex(i)
        sp = t.GetChildMemberWithName("saved_sp").GetValueAsUnsigned()
        err = lldb.SBError()
        raw = process.ReadMemory(sp, 7 * 8, err)
        if not err.Success():
            continue
        words = struct.unpack("<7Q", raw)
        wait_at = t.GetChildMemberWithName("wait").GetValueAsUnsigned()
        wait = memory.read(wait_at, 32).split(b"\0")[0].decode()
        out.append(threads.TaskThread(
            t.GetChildMemberWithName("id").GetValueAsUnsigned(),
            t.GetChildMemberWithName("name").GetSummary().strip('"'),
            "waits for %s" % wait, threads.EM_X86_64,
            words[6], sp + 56, list(zip(FRAME_REGS, words[:6])), sp))
    return out


def __lldb_init_module(debugger, internal_dict):
    threads.provider = toy_tasks
    threads.load_plugin(debugger)  # list the threads again, with us
