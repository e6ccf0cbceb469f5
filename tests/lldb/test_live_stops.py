"""A program run under lldb and stopped twice at breakpoints: each stop's
task threads show that stop's wait and frames (lldb keeps a plugin thread
object across stops if its id is the same, with the old name and queue),
and a task running on a worker is unwound from its worker thread."""

from lldbtest import Env

env = Env()
out = env.lldb(["b checkpoint", "run", "thread list", "tangle tasks", "continue", "thread list",
                "tangle tasks", "tangle bt 1", "process kill"], [env.program("lldb_steps")],
               name="stops")


first, _, second = out.partition("(lldb) continue\n")
env.expect(first, r"name = 'task 2 stepper', queue = 'sleep'", "stop 1: the stepper sleeps")
env.expect(second, r"name = 'task 2 stepper', queue = 'park \"stage two\"'",
           "stop 2: the stepper's new wait, not stop 1's")
env.expect(second, r"^1\s+running .*main$", "stop 2: main runs (it hit the breakpoint)")
env.expect(second, r"task 1 \"main\"  running .*\n  #0 checkpoint at lldb_steps\.c:\d+\n"
           r"  #1 main_task at lldb_steps\.c:\d+",
           "stop 2: a running task's backtrace is its worker thread's")
env.expect_not(out, r"Traceback", "no Python traceback")
env.finish()
