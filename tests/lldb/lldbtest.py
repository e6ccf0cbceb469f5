"""Helpers for the lldb frontend tests: real core dumps, live processes and
`lldb-16 -b` runs with the tangle module loaded.

A test script builds an Env from its command line (CMake passes the paths),
makes cores or starts programs with it, runs lldb and checks the output
with expect()/expect_not(); it exits 1 if any check failed. Every child is
bounded by a timeout and killed at the end.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

TIMEOUT = 60
SETTLE = 0.2  # after "ready": the task that printed it reaches its wait


class Env(object):
    def __init__(self, argv=None):
        p = argparse.ArgumentParser()
        p.add_argument("--lldb", default="lldb-16")
        p.add_argument("--module", required=True, help="tangle_lldb.py")
        p.add_argument("--engine", help="libtangle-inspect.so (TANGLE_INSPECT_LIB)")
        p.add_argument("--cli", help="the tangle CLI, for comparisons")
        p.add_argument("--work", required=True, help="a scratch directory")
        p.add_argument("--build", help="the build tree")
        p.add_argument("programs", nargs="*", help="NAME=PATH of test programs")
        a = p.parse_args(argv)
        self.lldb_path, self.module, self.engine, self.cli = a.lldb, a.module, a.engine, a.cli
        self.work, self.build = a.work, a.build
        self.programs = dict(x.split("=", 1) for x in a.programs)
        self.failures = 0
        if self.cli and not os.path.exists(self.cli):
            self._fail("the tangle CLI", "%s is not built" % self.cli, "")
            self.cli = None
        self.children = []
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)

    # ---- programs ------------------------------------------------------------

    def program(self, name):
        return self.programs[name]

    def _child_env(self, extra=None):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "disable_coredump=0:detect_leaks=0")
        env.update(extra or {})
        return env

    def start(self, name, args=(), ready=None, cwd=None):
        """Start a program; with ready, wait until it prints a line matching it."""
        def limits():
            import resource
            resource.setrlimit(resource.RLIMIT_CORE,
                               (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        proc = subprocess.Popen([self.program(name)] + list(args), cwd=cwd or self.work,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                preexec_fn=limits, env=self._child_env(), text=True)
        self.children.append(proc)
        if ready:
            deadline = time.time() + TIMEOUT
            while time.time() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                if re.search(ready, line):
                    time.sleep(SETTLE)
                    return proc
            proc.kill()
            raise RuntimeError("%s never printed %r" % (name, ready))
        return proc

    def core(self, name, args=(), ready=None, tag=None):
        """A real kernel core dump of the program: it aborts by itself, or
        after printing ready it gets SIGABRT. Falls back to gdb's gcore when
        cores are piped away. Returns the core's path."""
        cwd = os.path.join(self.work, tag or name)
        os.makedirs(cwd, exist_ok=True)
        proc = self.start(name, args, ready, cwd=cwd)
        if ready:
            if _core_pattern()[:1] in ("|", "/"):  # cores go elsewhere: gcore
                path = os.path.join(cwd, "core")
                subprocess.run(["gdb", "-batch", "-p", str(proc.pid), "-ex",
                                "gcore " + path], capture_output=True, timeout=TIMEOUT)
                proc.kill()
                proc.wait(TIMEOUT)
                return path
            proc.send_signal(signal.SIGABRT)
        proc.wait(TIMEOUT)
        for f in sorted(os.listdir(cwd)):
            if f == "core" or f.startswith("core."):
                return os.path.join(cwd, f)
        raise RuntimeError("%s left no core in %s (core_pattern %r)"
                           % (name, cwd, _core_pattern()))

    def finish(self):
        for proc in self.children:
            if proc.poll() is None:
                proc.kill()
                proc.wait(TIMEOUT)
        if self.failures:
            print("FAILED: %d check(s)" % self.failures)
            sys.exit(1)
        print("ok")

    # ---- lldb ----------------------------------------------------------------

    def lldb(self, commands, target=(), env=None, load=True, name="session",
             preload=False):
        """Run lldb-16 -b: target is its arguments (program, -c core, -p pid);
        commands run one after the other, also after an error. The module is
        imported first (load), or before the target is even created, as from
        ~/.lldbinit (preload). Returns the transcript (stdout and stderr in
        one stream, in order)."""
        script = os.path.join(self.work, name + ".lldb")
        with open(script, "w") as f:
            if load and not preload:
                f.write("command script import %s\n" % self.module)
            for c in commands:
                f.write(c + "\n")
        extra = {"TANGLE_INSPECT_LIB": self.engine} if self.engine else {}
        extra.update(env or {})
        argv = [self.lldb_path, "-b", "--no-lldbinit"]
        if preload:
            argv += ["-O", "command script import %s" % self.module]
        argv += list(target) + [
            "-o", "command source -e false %s" % script]
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, timeout=TIMEOUT, env=self._child_env(extra),
                             cwd=self.work, stdin=subprocess.DEVNULL)
        text = out.stdout
        with open(os.path.join(self.work, name + ".out"), "w") as f:
            f.write(text)
        # lldb's own notice, printed (on stderr) whenever it first meets the
        # runtime's assembly source, wherever the stream puts it
        return re.sub(r"(?m)^warning: This version of LLDB has no plugin for the "
                      r"language \"assembler\".*\n", "", text)

    # ---- checks --------------------------------------------------------------

    def expect(self, text, pattern, what):
        if re.search(pattern, text, re.M):
            return True
        self._fail(what, "no match for %r" % pattern, text)
        return False

    def expect_not(self, text, pattern, what):
        if not re.search(pattern, text, re.M):
            return True
        self._fail(what, "unexpected match for %r" % pattern, text)
        return False

    def check(self, cond, what, detail=""):
        if not cond:
            self._fail(what, detail, "")
        return cond

    def _fail(self, what, why, text):
        self.failures += 1
        print("FAIL: %s: %s" % (what, why))
        if text:
            print("---- output ----\n%s\n----------------" % text[-6000:])


def section(text, command):
    """The output of one command in an lldb transcript."""
    start = text.find("(lldb) " + command + "\n")
    if start < 0:
        return ""
    start += len("(lldb) " + command + "\n")
    end = text.find("\n(lldb) ", start)
    return text[start:end + 1 if end >= 0 else len(text)]


def _core_pattern():
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            return f.read().strip()
    except OSError:
        return "core"
