"""The OS plugin on a toy with its own context switch (no libtangle): each
suspended toy task is a thread beside the real ones, and lldb's own
`thread select`, `bt` and `frame variable` work on it, on a core dump and
on a live process (where the plugin is (re)enabled after the attach)."""

import os

from lldbtest import Env, section

env = Env()
provider = os.path.join(os.path.dirname(os.path.abspath(__file__)), "toy", "toy_provider.py")
load = ["command script import " + provider]
task_commands = ["thread list", "thread select 3", "bt", "frame select 1", "frame variable",
                 "frame select 2", "frame variable", "register read rsp rip rbx r12"]


def check_tasks(out, where):
    tl = section(out, "thread list")
    env.expect(tl, r"^  thread #2: tid = \d+, ", where + ": the real threads stay")
    env.expect(tl, r"thread #3: tid = [12]000000000012, .*toy_wait.*name = 'task 12 "
               r"transfer-a', queue = 'waits for ledger'", where + ": task 12 is a thread")
    env.expect(tl, r"thread #4: tid = [12]000000000013, .*name = 'task 13 transfer-b', "
               r"queue = 'waits for accounts'", where + ": task 13 is a thread")
    bt = section(out, "bt")
    env.expect(bt, r"\* thread #3, name = 'task 12 transfer-a'", where + ": bt of the task")
    env.expect(bt, r"frame #0: .*toy_tasks`toy_wait\(", where + ": frame 0: the switch's caller")
    env.expect(bt, r"frame #1: .*toy_tasks`take_lock\(.*\) at toy_tasks\.c:\d+",
               where + ": frame 1: where the task waits")
    env.expect(bt, r"frame #2: .*toy_tasks`transfer\(.*\) at toy_tasks\.c:\d+",
               where + ": frame 2: its caller")
    env.expect(bt, r"frame #3: .*toy_tasks`toy_entry", where + ": unwinding ends at the entry")
    env.expect_not(bt, r"frame #4", where + ": nothing beyond the entry trampoline")
    fv = section(out, "frame variable")
    env.expect(fv, r"\(volatile int\) held = 20", where + ": locals of the waiting frame")
    env.expect(out, r"\(volatile long\) amount = 112", where + ": locals of its caller")
    env.expect(section(out, "register read rsp rip rbx r12"),
               r"rip = 0x[0-9a-f]+\s+toy_tasks`transfer", where + ": registers of frame 2")


core = env.core("toy_tasks", ready="ready")
out = env.lldb(load + task_commands, [env.program("toy_tasks"), "-c", core], name="core")
check_tasks(out, "core")

# Live: the plugin is on before the attach, yet lldb builds the attach's
# first thread list without it; `tangle threads on` brings the tasks in.
proc = env.start("toy_tasks", ready="ready")
out = env.lldb(load + ["thread list", "tangle threads on"] + task_commands[1:] +
               ["thread list", "tangle threads off", "thread list"],
               ["-p", str(proc.pid)], name="live")
env.expect(out, r"tangle: task threads are on: 2 task threads", "live: threads on")
check_tasks(out.replace("(lldb) thread list\n", "(lldb) first\n", 1), "live")
last = out[out.rfind("(lldb) tangle threads off"):]
env.expect(last, r"task threads are off", "live: threads off")
# An entry of the list after it ("thread #3: tid = ..."): as the listing
# changes lldb may also print the selected task's frame ("thread #3,
# name = ..."), at any point of the output under load.
env.expect_not(last[last.rfind("(lldb) thread list"):], r"thread #3:",
               "live: no task threads once off")
env.finish()
