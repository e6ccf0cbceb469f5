"""A stripped program (the runtime linked statically, no symbol table): the
engine's lookup finds the table by its .tangle_debug section, and the
commands and task threads work on a core and live."""

from lldbtest import Env, section

env = Env()
exe = env.program("lldb_app_stripped")
core = env.core("lldb_app_stripped", ready="ready")
commands = ["image lookup -s tangle_debug_root", "tangle tasks", "tangle triage",
            "thread list"]


def check(out, where):
    env.expect(section(out, "image lookup -s tangle_debug_root"), r"^$|no symbol|^\s*$",
               where + ": the binary has no tangle_debug_root symbol")
    tasks = section(out, "tangle tasks")
    env.expect(tasks, r"^2\s+waiting .*sleep .*sleeper$", where + ": tasks found by section")
    triage = section(out, "tangle triage")
    env.expect(triage, r"^LOST-WAKER\s+task 3 \"parker\"", where + ": triage")
    env.expect(triage, r"^  #0 0x[0-9a-f]+ ", where + ": unnamed frames show their pc")
    env.expect_not(triage, r"unnamed_symbol", where + ": not lldb's made-up names")
    env.expect(section(out, "thread list"), r"name = 'task 2 sleeper', queue = 'sleep'",
               where + ": task threads")
    env.expect_not(out, r"Traceback", where + ": no Python traceback")


check(env.lldb(commands, [exe, "-c", core], name="core"), "core")
proc = env.start("lldb_app_stripped", ready="ready")
check(env.lldb(commands, ["-p", str(proc.pid)], name="live"), "live")
env.finish()
