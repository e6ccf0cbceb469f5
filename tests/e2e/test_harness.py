#!/usr/bin/env python3
"""Tests of the e2e harness itself: manifests load and resolve against the
example sources, and the checker accepts a right triage and rejects wrong
ones. Needs no build."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import check  # noqa: E402
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


class Backtraces(unittest.TestCase):
    def test_frame_with_function_and_line(self):
        w = {"function": "transfer", "file": "lock-order.c", "line": 42}
        good = "#0 transfer (bank=0x1) at /src/examples/lock-order.c:42  <- mutex\n"
        self.assertEqual(check.check_bt_text(good, w), [])
        self.assertTrue(check.check_bt_text(good.replace(":42", ":43"), w))
        self.assertTrue(check.check_bt_text(good.replace("transfer ", "refund "), w))


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


if __name__ == "__main__":
    unittest.main()
