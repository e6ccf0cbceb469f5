"""The three readers of a core: the tangle CLI, gdb and lldb.

The CLI is always checked. gdb and lldb are checked when their scripts are
given (--gdb SCRIPT, --lldb SCRIPT; ctest passes them once gdb/ and lldb/
register their scripts, see tests/e2e/README.md): their `tangle triage
--json` must print the very bytes the CLI prints, and their `tangle bt ID`
of each task the manifest names must show the CLI's frame of the wait
(one debugger run does every ID: `bt(core, exe, ids)`).
"""

import json
import os
import subprocess

TIMEOUT = 120


class Result:
    def __init__(self, status, out, err, argv):
        self.status = status
        self.out = out
        self.err = err
        self.argv = argv

    def describe(self):
        return "`%s` exited %s\nstderr: %s" % (" ".join(self.argv), self.status,
                                              self.err.strip()[-2000:])


def _run(argv, env=None):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                           env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Result("timeout", "", "no answer in %d s" % TIMEOUT, argv)
    except OSError as e:
        return Result("error", "", str(e), argv)
    return Result(r.returncode, r.stdout, r.stderr, argv)


class Cli:
    """The tangle CLI on a core and its executable."""

    def __init__(self, path):
        self.path = path

    def triage_json(self, core, exe):
        """`tangle triage --json CORE EXE`, the form users and pipelines type."""
        return _run([self.path, "triage", "--json", core, exe])

    def tasks_json(self, core, exe):
        """Every task, with its wait (`tangle tasks --json`)."""
        return _run([self.path, "tasks", "--json", "--core", core, "--exe", exe])

    def bt(self, core, exe, task_id):
        return _run([self.path, "bt", "--core", core, "--exe", exe, str(task_id)])


def extract_json(text, marker=None):
    """The JSON object a debugger printed among its own messages: the text
    of the first object that starts a line (after `marker`, if given)."""
    start = 0
    if marker is not None:
        at = text.find(marker)
        if at < 0:
            return None
        start = at + len(marker)
    decoder = json.JSONDecoder()
    pos = start
    while True:
        brace = text.find("{", pos)
        if brace < 0:
            return None
        if brace == 0 or text[brace - 1] == "\n":
            try:
                _, end = decoder.raw_decode(text, brace)
                return text[brace:end]
            except ValueError:
                pass
        pos = brace + 1


def _debugger_env(inspect_lib):
    env = dict(os.environ)
    if inspect_lib:
        env["TANGLE_INSPECT_LIB"] = inspect_lib
    return env


class Gdb:
    def __init__(self, script, inspect_lib=None):
        self.script = script
        self.env = _debugger_env(inspect_lib)

    def triage_json(self, core, exe):
        argv = ["gdb", "-batch", "-nx", "-q",
                "-iex", "set auto-load safe-path /",
                "-ex", "source " + self.script,
                "-ex", "tangle triage --json", exe, core]
        r = _run(argv, self.env)
        r.json = extract_json(r.out)
        return r

    def bt(self, core, exe, task_ids):
        argv = ["gdb", "-batch", "-nx", "-q",
                "-iex", "set auto-load safe-path /",
                "-ex", "source " + self.script]
        for task_id in task_ids:
            argv += ["-ex", "tangle bt %s" % task_id]
        return _run(argv + [exe, core], self.env)


class Lldb:
    def __init__(self, script, inspect_lib=None):
        self.script = script
        self.env = _debugger_env(inspect_lib)

    def triage_json(self, core, exe):
        argv = ["lldb-16", "-b", "--no-lldbinit",
                "-o", "command script import " + self.script,
                "-o", "tangle triage --json", "-c", core, exe]
        r = _run(argv, self.env)
        r.json = extract_json(r.out, marker="tangle triage --json")
        return r

    def bt(self, core, exe, task_ids):
        argv = ["lldb-16", "-b", "--no-lldbinit",
                "-o", "command script import " + self.script]
        for task_id in task_ids:
            argv += ["-o", "tangle bt %s" % task_id]
        return _run(argv + ["-c", core, exe], self.env)
