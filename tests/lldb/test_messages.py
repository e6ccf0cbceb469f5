"""One clear line for what cannot work: a missing engine library (at import
and on each command), a program without the tangle table, no process, and
bad arguments. The toy program has no table (it does not use libtangle)."""

from lldbtest import Env, section

env = Env()
core = env.core("toy_tasks", ready="ready")
target = [env.program("toy_tasks"), "-c", core]

# No engine: one line at import, the same line as the command's error.
out = env.lldb(["tangle tasks", "tangle triage --json", "help tangle bt", "thread list"],
               target, env={"TANGLE_INSPECT_LIB": "/nonexistent/libtangle-inspect.so"},
               name="no-engine")
line = r"TANGLE_INSPECT_LIB=/nonexistent/libtangle-inspect\.so: no such file"
env.expect(out, r"^tangle: " + line + "$", "no engine: one line at import")
env.expect(section(out, "tangle tasks"), r"^error: tangle: " + line + "$",
           "no engine: the command says why")
env.expect(section(out, "tangle triage --json"), r"^error: tangle: " + line,
           "no engine: triage says why")
env.check(len(section(out, "tangle tasks").strip().splitlines()) == 1,
          "no engine: exactly one line", section(out, "tangle tasks"))
env.expect(section(out, "thread list"), r"thread #1: tid = \d+", "no engine: lldb still works")
env.expect_not(out, r"Traceback", "no engine: no Python traceback")

# The engine, but a program without the table: the engine's message.
env.check(env.engine is not None, "the engine is given (--engine)")
out = env.lldb(["tangle tasks", "tangle triage --json", "tangle task 1", "thread list"],
               target, name="no-table")
tasks = section(out, "tangle tasks")
env.expect(tasks, r"^error: tangle: .*table", "no table: says so")
env.expect_not(out, r"not found \(looked beside", "no table: the engine was loaded")
env.check(len(tasks.strip().splitlines()) == 1, "no table: one line", tasks)
env.expect(section(out, "tangle triage --json"), r"^error: tangle: ", "no table: triage")
env.expect(section(out, "tangle task 1"), r"^error: tangle: ", "no table: task")
env.expect_not(out, r"Traceback", "no table: no Python traceback")
env.expect(section(out, "thread list"), r"thread #2: tid = \d+",
           "no table: lldb's threads are untouched")

# The same on a live process (attached with the module loaded before, as
# from ~/.lldbinit): the engine's message, and lldb's threads untouched.
proc = env.start("toy_tasks", ready="ready")
out = env.lldb(["thread list", "tangle tasks", "tangle threads"], ["-p", str(proc.pid)],
               name="no-table-live", preload=True)
tasks = section(out, "tangle tasks")
env.expect(tasks, r"^error: tangle: no tangle debug table: the symbol tangle_debug_root was "
           r"not found \(does the program use libtangle\?\)$", "no table, live: says so")
env.check(len(tasks.strip().splitlines()) == 1, "no table, live: one line", tasks)
env.expect(section(out, "thread list"), r"thread #2: tid = \d+", "no table, live: lldb's threads")
env.expect(section(out, "tangle threads"), r"^tangle: task threads are on: 0 task threads$",
           "no table, live: no task threads")
env.expect_not(out, r"Traceback|NotReady", "no table, live: no Python traceback")
proc.kill()

# A table with an ABI version this engine cannot read: the engine says so,
# naming both versions.
bad = env.core("lldb_bad_abi", ready="ready")
out = env.lldb(["tangle tasks", "thread list"], [env.program("lldb_bad_abi"), "-c", bad],
               name="bad-abi")
env.expect(section(out, "tangle tasks"),
           r"^error: tangle: debug table ABI version 99\.0 cannot be read .* 1\.x",
           "bad ABI: names both versions")
env.expect(section(out, "thread list"), r"thread #1: tid = \d+", "bad ABI: lldb still works")

# No process at all; bad arguments.
out = env.lldb(["tangle tasks", "tangle threads sideways", "tangle task x",
                "tangle tasks 'unbalanced", "tangle tasks --help", "tangle graph --help",
                "tangle why -h", "tangle task --help", "tangle threads --help",
                "tangle graph a.dot b.dot"], [], name="no-process")
env.expect(section(out, "tangle tasks"), r"^error: tangle: no process", "no process")
env.expect(section(out, "tangle threads sideways"), r"^error: tangle: usage: tangle threads",
           "threads usage")
env.expect(section(out, "tangle task x"), r"^error: tangle: usage: tangle task ID",
           "task usage")
env.expect(section(out, "tangle tasks 'unbalanced"), r"^error: tangle: .*quotation",
           "bad quoting")
# --help needs no process (nor a table): the engine's usage, or ours.
env.expect(section(out, "tangle tasks --help"), r"^usage: tasks \[--state", "tasks --help")
env.expect(section(out, "tangle graph --help"), r"^tangle graph \[FILE\] \[OPTIONS\]",
           "graph --help")
env.expect(section(out, "tangle graph --help"), r"--stuck-ms N", "graph --help: the options")
env.expect(section(out, "tangle why -h"), r"^usage: why ID", "why -h")
env.expect(section(out, "tangle task --help"), r"^tangle task ID", "task --help")
env.expect(section(out, "tangle threads --help"), r"^tangle threads \[on\|off\]",
           "threads --help")
env.expect(section(out, "tangle graph a.dot b.dot"),
           r"^error: tangle: usage: tangle graph \[FILE\] \[OPTIONS\]", "graph: one FILE")
env.expect_not(out, r"Traceback", "no process: no Python traceback")
env.finish()
