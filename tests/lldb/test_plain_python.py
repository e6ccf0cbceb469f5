"""The module from a plain Python (not inside lldb-16), as docs/lldb.md
shows: Debian's /usr/bin/python3 with lldb-16's site-packages (the
_lldb link resolves once liblldb-16-dev is installed) drives an
SBDebugger on a core: the tangle commands and the task threads work."""

import json
import os
import subprocess

from lldbtest import Env

env = Env()
python = "/usr/bin/python3"
core = env.core("lldb_app", ready="ready")
script = os.path.join(env.work, "plain.py")
with open(script, "w") as f:
    f.write('''
import json, subprocess, sys
sys.path.insert(0, subprocess.run([%(lldb)r, "-P"], capture_output=True,
                                  text=True).stdout.strip())
import lldb

lldb.SBDebugger.Initialize()
debugger = lldb.SBDebugger.Create(False)
debugger.SetAsync(False)
interp = debugger.GetCommandInterpreter()

def run(command):
    result = lldb.SBCommandReturnObject()
    interp.HandleCommand(command, result)
    return result.GetOutput() or result.GetError()

run("command script import %(module)s")
run("target create %(exe)s --core %(core)s")
report = json.loads(run("tangle triage --json"))
process = debugger.GetSelectedTarget().GetProcess()
names = [process.GetThreadAtIndex(i).GetName() for i in range(process.GetNumThreads())]
print(json.dumps({"kinds": [f["kind"] for f in report["findings"]], "threads": names}))
lldb.SBDebugger.Destroy(debugger)
''' % {"lldb": env.lldb_path, "module": env.module, "exe": env.program("lldb_app"),
       "core": core})

if not os.path.exists(python):
    env.check(False, "plain python: %s exists" % python)
else:
    r = subprocess.run([python, script], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, TANGLE_INSPECT_LIB=env.engine))
    line = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    try:
        got = json.loads(line)
    except ValueError:
        got = None
    if env.check(got is not None, "plain python: the script ran", r.stdout + r.stderr):
        env.check(got["kinds"] == ["lost-waker"], "plain python: triage --json", line)
        env.check("task 2 sleeper" in got["threads"], "plain python: task threads", line)
env.finish()
