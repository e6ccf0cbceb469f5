#!/usr/bin/env python3
"""The tangle command on real cores and live processes of small libtangle
programs (cli_prog): what it prints, its one-line errors and its exit
statuses (0 no finding, 1 findings, 2 could not read).

    test_commands.py --tangle BUILD/inspect/tangle --prog BUILD/tests/cli/cli_prog
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cli_prog.c")


def marker_line(marker):
    """The line of cli_prog.c that carries a /* MARKER */ comment."""
    with open(SOURCE) as f:
        for n, line in enumerate(f, 1):
            if "/* %s */" % marker in line:
                return n
    raise AssertionError("no %s in cli_prog.c" % marker)


def kernel_cores():
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    return not pattern.startswith("|") and not pattern.startswith("/")


class Program:
    """A program started in a scratch directory that prints "ready"."""

    def __init__(self, argv, cwd):
        def limits():
            resource.setrlimit(resource.RLIMIT_CORE,
                               (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        self.cwd = cwd
        env = dict(os.environ)
        # Sanitizer builds: ASan turns core dumps off unless told not to.
        env["ASAN_OPTIONS"] = ":".join(filter(None, [
            env.get("ASAN_OPTIONS"), "disable_coredump=0", "use_madv_dontdump=1"]))
        self.proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, preexec_fn=limits,
                                     text=True, env=env)
        deadline = time.time() + 10
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("ready"):
                return
            if not line and self.proc.poll() is not None:
                break
        self.kill()
        raise AssertionError("%s never said ready" % argv)

    def dump(self):
        """A core of the program (which ends); its path."""
        pid = self.proc.pid
        if not kernel_cores():
            out = os.path.join(self.cwd, "core")
            subprocess.run(["gcore", "-o", out, str(pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.kill()
            return "%s.%d" % (out, pid)
        os.kill(pid, signal.SIGABRT)
        self.proc.wait(10)
        self.proc.stdout.close()
        for name in ("core", "core.%d" % pid):
            path = os.path.join(self.cwd, name)
            if os.path.exists(path):
                return path
        raise AssertionError("no core in %s" % self.cwd)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def tangle(*args):
    r = subprocess.run([ARGS.tangle] + list(args), capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr


class Cores(unittest.TestCase):
    """Commands on cores of cli_prog."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tangle-cli-cmd.")
        cls.prog = os.path.join(cls.dir, "cli_prog")
        shutil.copy(ARGS.prog, cls.prog)
        cls.cores = {}
        for mode in ("self", "held", "sleepers"):
            d = os.path.join(cls.dir, mode)
            os.mkdir(d)
            cls.cores[mode] = Program([cls.prog, mode], d).dump()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def assertFails(self, args, message):
        status, out, err = tangle(*args)
        self.assertEqual(status, 2, err)
        self.assertEqual(out, "")
        self.assertTrue(err.startswith("tangle: "), err)
        self.assertEqual(err.count("\n"), 1, "one line: %r" % err)
        self.assertIn(message, err)
        return err

    def test_a_deadlock_is_a_finding(self):
        status, out, err = tangle("triage", self.cores["self"])
        self.assertEqual((status, err), (1, ""))
        self.assertIn("DEADLOCK", out)
        self.assertIn('"selfish"', out)
        self.assertIn("cli_prog.c:%d" % marker_line("CLI_PROG_SELF_LINE"), out)

    def test_json_names_the_finding(self):
        status, out, _ = tangle("triage", "--json", self.cores["self"], self.prog)
        self.assertEqual(status, 1)
        doc = json.loads(out)
        self.assertEqual([(f["kind"], f.get("shape")) for f in doc["findings"]],
                         [("deadlock", "self")])
        self.assertEqual(doc["now_source"], "real")

    def test_tasks_lists_the_wait(self):
        status, out, err = tangle("tasks", self.cores["held"])
        self.assertIn(status, (0, 1), err)
        line = [l for l in out.splitlines() if l.rstrip().endswith(" waiter")]
        self.assertEqual(len(line), 1, out)
        self.assertIn('lock mutex "ledger"', line[0])
        self.assertIn("cli_prog.c:%d waiter" % marker_line("CLI_PROG_WAIT_LINE"),
                      line[0])

    def test_bt_shows_the_waiting_function_and_line(self):
        _, out, _ = tangle("tasks", "--json", self.cores["held"])
        ids = {t["name"]: t["id"] for t in json.loads(out)["tasks"]}
        status, out, err = tangle("bt", self.cores["held"], self.prog,
                                  str(ids["waiter"]))
        self.assertIn(status, (0, 1), err)
        want = "waiter at cli_prog.c:%d" % marker_line("CLI_PROG_WAIT_LINE")
        frame = [l for l in out.splitlines() if want in l]
        self.assertEqual(len(frame), 1, out)
        self.assertIn('<- awaiting mutex "ledger"', frame[0])
        # With the runtime's frames: the switch, then the wait.
        _, out, _ = tangle("bt", "--all", str(ids["waiter"]), self.cores["held"])
        self.assertRegex(out, r"#0 ctx_switch at sched\.c:\d+")
        self.assertIn("tangle__waiter_wait", out)

    def test_json_on_every_command(self):
        _, out, _ = tangle("tasks", "--json", self.cores["held"])
        waiter = [t["id"] for t in json.loads(out)["tasks"] if t["name"] == "waiter"][0]
        for cmd in (["triage"], ["tasks"], ["tasks", "--group"], ["bt"], ["locks"],
                    ["why", str(waiter)], ["deadlocks"], ["graph"]):
            status, out, err = tangle(*cmd, "--json", self.cores["held"], self.prog)
            self.assertIn(status, (0, 1), "%s: %s" % (cmd, err))
            doc = json.loads(out)
            self.assertEqual((doc["format"], doc["version"]), ("tangle-inspect", 1), cmd)
            self.assertRegex(doc["abi"], r"^3\.\d+$")

    def test_bt_json_has_the_frames(self):
        _, text, _ = tangle("bt", self.cores["held"], self.prog)
        status, out, err = tangle("bt", "--json", self.cores["held"], self.prog)
        self.assertIn(status, (0, 1), err)
        doc = json.loads(out)
        tasks = {t["name"]: t for t in doc["tasks"]}
        self.assertEqual(sorted(tasks), ["holder", "waiter"])
        waiter = tasks["waiter"]
        self.assertEqual((waiter["frames_from"], waiter["frames_error"]), ("context", None))
        self.assertEqual(waiter["wait"]["object"]["name"], "ledger")
        line = marker_line("CLI_PROG_WAIT_LINE")
        marked = [f for f in waiter["frames"] if f["awaiting"]]
        self.assertEqual(len(marked), 1, waiter["frames"])
        f = marked[0]
        self.assertEqual((f["function"], os.path.basename(f["file"]), f["line"]),
                         ("waiter", "cli_prog.c", line))
        self.assertEqual(f["awaiting"], 'mutex "ledger"')
        self.assertIs(f["inlined"], False)
        self.assertRegex(f["pc"], r"^0x[0-9a-f]+$")
        self.assertEqual([g["index"] for g in waiter["frames"]],
                         list(range(len(waiter["frames"]))))
        self.assertGreater(waiter["runtime_frames"], 0)
        # The same frames as the text, in order.
        text_fns = re.findall(r"#\d+ (\S+)", text.split('"waiter"')[1].split("\ntask ")[0])
        self.assertEqual([g["function"] for g in waiter["frames"]], text_fns)
        self.assertEqual([g["awaiting"] for g in tasks["holder"]["frames"]
                          if g["awaiting"]], ["sleep"])
        # --all keeps the runtime's frames; one task by id.
        _, out, _ = tangle("bt", "--json", "--all", str(waiter["id"]), self.cores["held"])
        doc = json.loads(out)
        self.assertEqual([t["id"] for t in doc["tasks"]], [waiter["id"]])
        fns = [g["function"] for g in doc["tasks"][0]["frames"]]
        self.assertIn("tangle__waiter_wait", fns)
        self.assertEqual(doc["tasks"][0]["runtime_frames"], 0)

    def test_graph_json_is_the_dot(self):
        _, dot, _ = tangle("graph", self.cores["held"])
        status, out, err = tangle("graph", "--json", self.cores["held"])
        self.assertIn(status, (0, 1), err)
        doc = json.loads(out)
        nodes = {n["id"]: n for n in doc["nodes"]}
        names = {n["task"]["name"] if n["task"] else n["object"]["name"]: i
                 for i, n in nodes.items()}
        self.assertEqual(nodes[names["ledger"]]["object"]["kind"], "mutex")
        self.assertEqual(nodes[names["waiter"]]["state"], "waiting")
        edges = {(e["from"], e["to"], e["label"]) for e in doc["edges"]}
        self.assertIn((names["waiter"], names["ledger"], "lock"), edges)
        self.assertIn((names["ledger"], names["holder"], "owner"), edges)
        self.assertEqual(edges, set(re.findall(r'(\w+) -> (\w+) \[label="([^"]+)"', dot)))
        self.assertEqual(set(nodes), set(re.findall(r"^  (\w+) \[shape=", dot, re.M)))

    def test_a_healthy_program_has_no_finding(self):
        status, out, err = tangle("triage", self.cores["sleepers"])
        self.assertEqual((status, err), (0, ""))
        self.assertIn("0 findings", out)

    def test_the_executable_is_checked(self):
        # Another program given as the executable (the fixture is no
        # cli_prog).
        self.assertFails(["triage", self.cores["held"], ARGS.fixture],
                         "is not the program that made this core")
        moved = self.prog + ".moved"
        os.rename(self.prog, moved)
        try:
            err = self.assertFails(["triage", self.cores["held"]],
                                   "cannot find the executable")
            self.assertIn(self.prog, err)
            status, _, _ = tangle("triage", self.cores["held"], moved)
            self.assertIn(status, (0, 1))
        finally:
            os.rename(moved, self.prog)

    def test_a_truncated_core(self):
        cut = os.path.join(self.dir, "cut-core")
        size = os.path.getsize(self.cores["held"])
        # In the ELF header, the program headers (`head -c 4096 core`: a
        # core of cli_prog has more than 4096 bytes of them), the segments.
        for at in (40, 64, 200, 4096, size // 2, size - 1):
            with open(self.cores["held"], "rb") as f, open(cut, "wb") as g:
                g.write(f.read(at))
            for exe in ([], [self.prog]):
                err = self.assertFails(["triage", cut] + exe, "is truncated")
                self.assertIn("%d bytes" % at, err)

    def test_an_abi_the_engine_cannot_read(self):
        patched = os.path.join(self.dir, "abi-core")
        with open(self.cores["held"], "rb") as f:
            data = bytearray(f.read())
        at = data.find(b"TNGLDBG\0\x03\x00")
        self.assertGreater(at, 0)
        data[at + 8:at + 10] = (99).to_bytes(2, "little")
        with open(patched, "wb") as f:
            f.write(data)
        self.assertFails(["triage", patched, self.prog], "99.")

    def test_a_program_without_libtangle(self):
        d = os.path.join(self.dir, "plain")
        os.mkdir(d)
        shutil.copy(ARGS.plain, os.path.join(d, "plain"))
        core = Program([os.path.join(d, "plain"), "ready"], d).dump()
        self.assertFails(["tasks", core], "does not use libtangle")

    def test_a_stripped_program(self):
        # The root is found by its section; frames have no names.
        objcopy = shutil.which("objcopy")
        if not objcopy:
            self.skipTest("no objcopy")
        d = os.path.join(self.dir, "stripped")
        os.mkdir(d)
        prog = os.path.join(d, "prog")
        subprocess.run([objcopy, "--strip-all", self.prog, prog], check=True)
        core = Program([prog, "self"], d).dump()
        status, out, err = tangle("triage", core)
        self.assertEqual((status, err), (1, ""))
        self.assertIn('self-deadlock of task 1', out)
        self.assertIn("cli_prog.c:%d selfish" % marker_line("CLI_PROG_SELF_LINE"),
                      out)

    def test_usage_errors(self):
        self.assertFails(["frobnicate", self.cores["held"]], "unknown command")
        self.assertFails(["triage"], "no target")
        self.assertFails(["triage", os.path.join(self.dir, "nothing-here")],
                         "cannot open")
        self.assertFails(["triage", SOURCE], "is not a core file")
        self.assertFails(["triage", self.prog], "is an executable, not a core file")


class Live(unittest.TestCase):
    """Commands on a running cli_prog."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tangle-cli-live.")
        self.prog = Program([ARGS.prog, "held"], self.dir)

    def tearDown(self):
        self.prog.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def states(self):
        """Thread state letters of the program."""
        pid = self.prog.proc.pid
        out = ""
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                out += f.read().rsplit(")", 1)[1].split()[0]
        return out

    def test_attach_read_and_resume(self):
        pid = str(self.prog.proc.pid)
        status, out, err = tangle("tasks", "-p", pid)
        self.assertIn(status, (0, 1), err)
        self.assertIn('lock mutex "ledger"', out)
        self.assertNotIn("t", self.states())
        status, out, _ = tangle("triage", "--json", "-p", pid)
        doc = json.loads(out)
        self.assertEqual((doc["now_source"], doc["torn"]), ("mono", False))
        _, out, _ = tangle("triage", "-p", pid, "--no-stop")
        self.assertIn("may be torn", out)
        self.assertNotIn("t", self.states())

    def test_a_pid_that_does_not_exist(self):
        status, out, err = tangle("triage", "-p", "1073741000")
        self.assertEqual((status, out), (2, ""))
        self.assertEqual(err, "tangle: no process with pid 1073741000\n")


class Help(unittest.TestCase):
    def test_help_and_version(self):
        for args in (["--help"], ["help"], []):
            status, out, _ = tangle(*args)
            self.assertEqual(status, 0)
            self.assertIn("Exit status:", out)
            self.assertIn("-p, --pid PID", out)
        status, out, _ = tangle("help", "tasks")
        self.assertEqual(status, 0)
        self.assertIn("--group", out)
        status, out, _ = tangle("bt", "--help")
        self.assertEqual(status, 0)
        self.assertIn("usage: tangle bt", out)
        status, out, _ = tangle("--version")
        self.assertEqual(status, 0)
        self.assertRegex(out, r"^tangle \d+\.\d+\.\d+ \(debug table ABI \d+\.\d+\)\n$")


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--tangle", required=True)
    p.add_argument("--prog", required=True, help="cli_prog")
    p.add_argument("--fixture", required=True, help="cli_fixture (an ELF that is not cli_prog)")
    p.add_argument("--plain", required=True, help="a program without libtangle")
    ARGS, rest = p.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
