#!/usr/bin/env python3
"""Tests of the e2e harness itself: manifests load and resolve against the
example sources, and the checker accepts a right triage and rejects wrong
ones. Needs no build."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import check  # noqa: E402
import dump  # noqa: E402
import frontends  # noqa: E402
import manifest  # noqa: E402

EXAMPLES = os.path.join(HERE, "..", "..", "examples")


def task(tid, name, line=0, function="", file="lock-order.c", state="waiting"):
    t = {"id": tid, "name": name, "state": state}
    if line:
        t["wait"] = {"kind": "mutex", "site": {"file": "/src/examples/" + file,
                                              "line": line, "function": function}}
    return t


def lock_order_doc(m):
    lines = {w["task"]: w for w in m["waits"]}
    a, b = lines["transfer-a"], lines["transfer-b"]
    return {
        "findings": [{
            "kind": "deadlock", "shape": "lock-order", "signature": "3f9c2a1e",
            "tasks": [{"id": 12, "name": "transfer-a"}, {"id": 13, "name": "transfer-b"}],
            "objects": [{"kind": "mutex", "name": "ledger"},
                        {"kind": "mutex", "name": "accounts"}],
        }],
        "tasks": [task(1, "main", 0), task(12, "transfer-a", a["line"], a["function"]),
                  task(13, "transfer-b", b["line"], b["function"])],
        "objects": [], "workers": [],
    }


class Manifests(unittest.TestCase):
    def test_every_example_has_a_loadable_manifest(self):
        names = [f[:-2] for f in os.listdir(EXAMPLES) if f.endswith(".c")]
        self.assertEqual(len(names), 12, names)
        for name in names:
            m = manifest.load(EXAMPLES, name)
            self.assertTrue(m["line"].startswith(name + ": "), name)
            for w in m["waits"]:
                with open(os.path.join(EXAMPLES, name + ".c")) as f:
                    text = f.read().splitlines()[w["line"] - 1]
                self.assertIn("wait: " + w["tag"], text)

    def test_duplicate_tag_is_an_error(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "e2e-dup-tag.c")
        with open(path, "w") as f:
            f.write("a(); /* wait: x */\nb(); /* wait: x */\n")
        with self.assertRaises(manifest.ManifestError):
            manifest.resolve_tags(path)
        os.unlink(path)


class Findings(unittest.TestCase):
    def setUp(self):
        self.m = manifest.load(EXAMPLES, "lock-order")
        self.doc = lock_order_doc(self.m)

    def test_right_triage_passes(self):
        self.assertEqual(check.check_findings(self.doc, self.m), [])
        self.assertEqual(check.check_wait_sites(self.doc, self.m), [])

    def test_extra_finding_fails(self):
        self.doc["findings"].append({"kind": "stuck", "signature": "1",
                                     "tasks": [{"id": 1, "name": "main"}]})
        self.assertEqual(len(check.check_findings(self.doc, self.m)), 1)

    def test_wrong_shape_fails(self):
        self.doc["findings"][0]["shape"] = "mixed"
        self.assertTrue(check.check_findings(self.doc, self.m))

    def test_missing_task_and_extra_task_fail(self):
        self.doc["findings"][0]["tasks"] = [{"id": 12, "name": "transfer-a"},
                                            {"id": 1, "name": "main"}]
        problems = check.check_findings(self.doc, self.m)
        self.assertIn("transfer-b", problems[0])
        self.assertIn("main", problems[0])

    def test_wrong_object_fails(self):
        self.doc["findings"][0]["objects"][0]["name"] = "journal"
        self.assertTrue(check.check_findings(self.doc, self.m))

    def test_missing_signature_fails(self):
        del self.doc["findings"][0]["signature"]
        self.assertTrue(check.check_findings(self.doc, self.m))

    def test_no_findings_fails(self):
        self.doc["findings"] = []
        self.assertTrue(check.check_findings(self.doc, self.m))

    def test_wrong_wait_line_fails(self):
        self.doc["tasks"][1]["wait"]["site"]["line"] += 1
        self.assertTrue(check.check_wait_sites(self.doc, self.m))

    def test_also_tasks_glob(self):
        m = manifest.load(EXAMPLES, "held-across-await")
        f = {"kind": "lock-held-across-await", "signature": "9",
             "tasks": [{"name": "cache-refresh"}, {"name": "lookup-3"}],
             "objects": [{"kind": "mutex", "name": "cache"}]}
        self.assertEqual(check.check_findings({"findings": [f]}, m), [])
        f["tasks"].append({"name": "main"})
        self.assertTrue(check.check_findings({"findings": [f]}, m))

    def test_healthy_wants_nothing(self):
        m = manifest.load(EXAMPLES, "healthy-server")
        self.assertEqual(check.check_findings({"findings": []}, m), [])
        self.assertTrue(check.check_findings(self.doc, m))


class RunsDiffer(unittest.TestCase):
    def _docs(self):
        m = manifest.load(EXAMPLES, "lock-order")
        docs = []
        for i in range(5):
            d = lock_order_doc(m)
            f = d["findings"][0]
            for t in f["tasks"]:
                t["id"] += 10 * i
            for n, o in enumerate(f["objects"]):
                o["address"] = hex(0x5500000000 + 0x1000 * i + 0x100 * n)
            docs.append(d)
        return docs

    def test_different_runs_pass(self):
        self.assertEqual(check.check_runs_differ(self._docs()), ([], None))

    def test_same_addresses_fail(self):
        docs = self._docs()
        for d in docs:
            d["findings"][0]["objects"] = docs[0]["findings"][0]["objects"]
        problems, skipped = check.check_runs_differ(docs)
        self.assertTrue(problems)
        self.assertIsNone(skipped)

    def test_same_addresses_without_aslr_is_a_skip(self):
        docs = self._docs()
        for d in docs:
            d["findings"][0]["objects"] = docs[0]["findings"][0]["objects"]
        problems, skipped = check.check_runs_differ(docs, aslr_off=True)
        self.assertEqual(problems, [])
        self.assertIn("ASLR is off", skipped)

    def test_same_task_ids_fail(self):
        docs = self._docs()
        for d in docs:
            d["findings"][0]["tasks"] = docs[0]["findings"][0]["tasks"]
        self.assertTrue(check.check_runs_differ(docs, aslr_off=True)[0])

    def test_missing_addresses_fail(self):
        docs = self._docs()
        del docs[2]["findings"][0]["objects"][0]["address"]
        self.assertTrue(check.check_runs_differ(docs)[0])


class Backtraces(unittest.TestCase):
    def test_frame_with_function_and_line(self):
        w = {"function": "transfer", "file": "lock-order.c", "line": 42}
        good = "#0 transfer (bank=0x1) at /src/examples/lock-order.c:42  <- mutex\n"
        self.assertEqual(check.check_bt_text(good, w), [])
        self.assertTrue(check.check_bt_text(good.replace(":42", ":43"), w))
        self.assertTrue(check.check_bt_text(good.replace("transfer ", "refund "), w))


class DebuggerBacktraces(unittest.TestCase):
    W = {"function": "transfer", "file": "lock-order.c", "line": 34}
    CLI = ('task 2 "transfer-a"  waiting 1.0s  spawned by task 1 at lock-order.c:82 main_task\n'
           '  holds mutex "accounts" (exclusive) for 1.0s at lock-order.c:29 transfer\n'
           '  #0 transfer at lock-order.c:34      <- awaiting mutex "ledger"\n')

    def test_same_frame_passes(self):
        dbg = "(lldb) tangle bt 2\n" + self.CLI + "(lldb) tangle bt 3\n" + \
            self.CLI.replace("task 2", "task 3").replace("34", "35")
        self.assertEqual(check.check_same_wait_frame(self.CLI, dbg, 2, self.W), [])

    def test_other_line_fails(self):
        dbg = self.CLI.replace("lock-order.c:34", "lock-order.c:33")
        self.assertTrue(check.check_same_wait_frame(self.CLI, dbg, 2, self.W))

    def test_other_frame_number_or_object_fails(self):
        self.assertTrue(check.check_same_wait_frame(
            self.CLI, self.CLI.replace("#0", "#1"), 2, self.W))
        self.assertTrue(check.check_same_wait_frame(
            self.CLI, self.CLI.replace('"ledger"', '"accounts"'), 2, self.W))

    def test_other_task_fails(self):
        self.assertTrue(check.check_same_wait_frame(
            self.CLI, self.CLI.replace("task 2", "task 3"), 2, self.W))


class DebuggerOutput(unittest.TestCase):
    def test_extract_json_among_messages(self):
        text = ('[New LWP 7]\nCore was generated by `./x {a}`.\n'
                '{"findings": [], "tasks": [{"a": "}"}]}\n(gdb) quit\n')
        self.assertEqual(frontends.extract_json(text),
                         '{"findings": [], "tasks": [{"a": "}"}]}')

    def test_extract_after_marker(self):
        text = '(lldb) tangle triage --json\n{"x": 1}\n'
        self.assertEqual(frontends.extract_json(text, "tangle triage --json"), '{"x": 1}')
        self.assertIsNone(frontends.extract_json("no json here"))


def _ptrace_ok():
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            scope = int(f.read())
    except (OSError, ValueError):
        scope = 0
    return scope == 0 or os.geteuid() == 0


class Dumps(unittest.TestCase):
    """dump.py: the one line, the choice of dumper, gcore's cap and timeout."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="e2e-harness-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _printer(self, text):
        return subprocess.Popen(
            [sys.executable, "-c", "import sys, time; sys.stdout.write(%r); "
             "sys.stdout.flush(); time.sleep(30)" % text],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def _wait(self, text):
        proc = self._printer(text)
        try:
            return dump._wait_line(proc, "x: hung", 10, os.path.join(self.tmp, "out"))
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()

    def test_the_line_alone_passes(self):
        self.assertEqual(self._wait("x: hung\n"), "x: hung\n")

    def test_output_before_the_line_fails(self):
        with self.assertRaisesRegex(dump.DumpError, "exactly"):
            self._wait("starting\nx: hung\n")

    def test_output_with_the_line_fails(self):
        with self.assertRaisesRegex(dump.DumpError, "exactly"):
            self._wait("x: hung now\n")

    def test_piped_cores_and_no_core_limit_mean_gcore(self):
        self.assertIn("pipes", dump.kernel_cannot_dump("|/lib/systemd/systemd-coredump %P"))
        self.assertIsNone(dump.kernel_cannot_dump("core", self.tmp))
        self.assertIn("not writable", dump.kernel_cannot_dump("/nonexistent/dir/core.%p"))
        code = ("import resource, sys; sys.path.insert(0, %r); import dump; "
                "resource.setrlimit(resource.RLIMIT_CORE, (0, 0)); "
                "print(dump.kernel_cannot_dump('core', %r)); print(dump.dump_method(%r))"
                % (HERE, self.tmp, self.tmp))
        env = dict(os.environ)
        env.pop("TANGLE_E2E_DUMP", None)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                             text=True, env=env, check=True).stdout
        self.assertEqual(out.splitlines(), ["RLIMIT_CORE's hard limit is 0", "gcore"])

    def test_no_kernel_core_is_retried_with_gcore(self):
        calls = []

        def fake(exe, line, workdir, args, timeout, delay, method):
            calls.append(method)
            if method == "kernel":
                raise dump.NoKernelCore("the kernel wrote no core")
            return dump.Dump(workdir, exe, "core", 1, 1.0, method)

        saved = dump._run_and_dump, dump.dump_method
        env = os.environ.pop("TANGLE_E2E_DUMP", None)
        dump._run_and_dump = fake
        dump.dump_method = lambda workdir=".": "kernel"
        try:
            d = dump.run_and_dump("/bin/true", "x", self.tmp)
            calls_default = list(calls)
            del calls[:]
            with self.assertRaises(dump.NoKernelCore):  # asked for: no fallback
                dump.run_and_dump("/bin/true", "x", self.tmp, method="kernel")
        finally:
            dump._run_and_dump, dump.dump_method = saved
            if env is not None:
                os.environ["TANGLE_E2E_DUMP"] = env
        self.assertEqual(calls_default, ["kernel", "gcore"])
        self.assertEqual(calls, ["kernel"])
        self.assertEqual(d.method, "gcore")
        self.assertIn("no core", d.note)

    def _sleeper(self):
        return subprocess.Popen(["sleep", "60"], stdin=subprocess.DEVNULL)

    @unittest.skipUnless(shutil.which("gdb") and _ptrace_ok(), "needs gdb and ptrace")
    def test_gcore_over_the_cap_is_an_error_and_deleted(self):
        proc = self._sleeper()
        path = os.path.join(self.tmp, "core")
        try:
            with self.assertRaisesRegex(dump.DumpError, "cap of 0.1 MiB"):
                dump.gcore_pid(proc.pid, path, cap=64 << 10)
        finally:
            proc.kill()
            proc.wait()
        self.assertFalse(os.path.exists(path))

    @unittest.skipUnless(shutil.which("gdb") and _ptrace_ok(), "needs gdb and ptrace")
    def test_gcore_timeout_is_a_dump_error(self):
        proc = self._sleeper()
        try:
            with self.assertRaisesRegex(dump.DumpError, "no core within"):
                dump.gcore_pid(proc.pid, os.path.join(self.tmp, "core"), timeout=0.05)
        finally:
            proc.kill()
            proc.wait()

    @unittest.skipUnless(shutil.which("gdb") and _ptrace_ok(), "needs gdb and ptrace")
    def test_gcore_of_a_small_process(self):
        proc = self._sleeper()
        path = os.path.join(self.tmp, "core")
        try:
            dump.gcore_pid(proc.pid, path)
        finally:
            proc.kill()
            proc.wait()
        self.assertTrue(dump._is_core(path))


if __name__ == "__main__":
    unittest.main()
