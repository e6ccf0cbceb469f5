"""The examples in lldb, on real cores and live: lock-order in depth (every
command, the deadlocked tasks as lldb threads with their own frames and
variables), and a few examples' `triage --json` against their manifests
and, byte for byte, against the CLI's on the same core. (tests/e2e checks
every example's in lldb too.)"""

import json
import os
import re
import subprocess

from lldbtest import Env, section

env = Env()
HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "select_function.py")
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "examples")


def manifest(name):
    with open(os.path.join(EXAMPLES, name + ".expect")) as f:
        return json.load(f)


def wait_line(name, tag):
    """The source line marked /* wait: TAG */ in examples/NAME.c."""
    with open(os.path.join(EXAMPLES, name + ".c")) as f:
        for number, text in enumerate(f, 1):
            if re.search(r"/\* wait: %s \*/" % re.escape(tag), text):
                return number
    return None


# ---- lock-order in depth ---------------------------------------------------------

LOCK_ORDER = [
    "tangle tasks", "tangle locks", "tangle deadlocks", "tangle why 2", "tangle bt 2 3",
    "tangle triage", "tangle graph {dot}", "thread list",
    "command script import " + HELPER,
    "tangle task 2", "select-function transfer", "frame variable bank",
    "frame variable bank->balance bank->entries",
    "tangle task 3", "bt", "select-function refund", "frame variable bank->entries",
]
ledger, accounts = wait_line("lock-order", "ledger"), wait_line("lock-order", "accounts")


def check_lock_order(out, where, dot):
    tasks = section(out, "tangle tasks")
    env.expect(tasks, r"^2\s+waiting .*lock mutex \"ledger\"\s+lock-order\.c:%d transfer\s+"
               r"transfer-a$" % ledger, where + ": transfer-a waits for ledger")
    env.expect(tasks, r"^3\s+waiting .*lock mutex \"accounts\"\s+lock-order\.c:%d refund\s+"
               r"transfer-b$" % accounts, where + ": transfer-b waits for accounts")
    locks = section(out, "tangle locks")
    env.expect(locks, r"^mutex\s+accounts\s+held by task 2 \"transfer-a\"", where + ": locks")
    env.expect(locks, r"^mutex\s+ledger\s+held by task 3 \"transfer-b\"", where + ": locks")
    env.expect(section(out, "tangle deadlocks"), r"^DEADLOCK\s+lock-order cycle between 2 tasks",
               where + ": deadlocks")
    env.expect(section(out, "tangle why 2"), r"held by task 3 \"transfer-b\"", where + ": why")
    bt = section(out, "tangle bt 2 3")
    env.expect(bt, r"#0 transfer at lock-order\.c:%d\s+<- awaiting mutex \"ledger\""
               % ledger, where + ": bt of transfer-a from lldb's frames")
    env.expect(bt, r"#0 refund at lock-order\.c:%d\s+<- awaiting mutex \"accounts\""
               % accounts, where + ": bt of transfer-b")
    triage = section(out, "tangle triage")
    env.expect(triage, r"^DEADLOCK\s+lock-order cycle between 2 tasks\s+\[sig [0-9a-f]+\]",
               where + ": triage")
    env.expect(triage, r"fix: ", where + ": triage has the fix")
    env.expect(section(out, "tangle graph " + dot), r"wrote the wait-for graph", where + ": graph")
    tl = section(out, "thread list")
    env.expect(tl, r"name = 'task 2 transfer-a', queue = 'lock mutex \"ledger\"'",
               where + ": transfer-a is a thread")
    env.expect(tl, r"name = 'task 3 transfer-b', queue = 'lock mutex \"accounts\"'",
               where + ": transfer-b is a thread")
    env.expect(section(out, "select-function transfer"), r"^frame #\d+ transfer",
               where + ": transfer-a's thread has transfer()")
    env.expect(section(out, "frame variable bank"), r"^\(bank \*\) bank = 0x[0-9a-f]+",
               where + ": a local of transfer-a's frame")
    fv = section(out, "frame variable bank->balance bank->entries")
    env.expect(fv, r"\[0\] = 900", where + ": transfer-a's view of the balances")
    env.expect(fv, r"\[1\] = 1100", where + ": both balances")
    env.expect(fv, r"\(long\) bank->entries = 1", where + ": the ledger entry of transfer-b")
    env.expect(section(out, "bt"), r"lock-order`refund\(arg=.*\) at lock-order\.c:%d" % accounts,
               where + ": lldb's bt of transfer-b")
    env.expect_not(out, r"Traceback", where + ": no Python traceback")


exe = env.program("lock-order")
core = env.core("lock-order", ready="lock-order: hung")
dot = os.path.join(env.work, "lock-order-core.dot")
out = env.lldb([c.format(dot=dot) for c in LOCK_ORDER], [exe, "-c", core], name="lock-order-core")
check_lock_order(out, "lock-order core", dot)

proc = env.start("lock-order", ready="lock-order: hung")
dot = os.path.join(env.work, "lock-order-live.dot")
out = env.lldb([c.format(dot=dot) for c in LOCK_ORDER], ["-p", str(proc.pid)],
               name="lock-order-live", preload=True)
check_lock_order(out, "lock-order live", dot)
proc.kill()

# ---- triage --json ---------------------------------------------------------------

for name in ("lock-order", "self-deadlock", "channel-ring"):
    m = manifest(name)
    if name != "lock-order":
        core = env.core(name, ready=re.escape(m["line"]), tag=name)
    out = env.lldb(["tangle triage --json"], [env.program(name), "-c", core], name=name)
    text = section(out, "tangle triage --json")
    try:
        report = json.loads(text)
    except ValueError:
        env.check(False, name + ": triage --json is JSON", out[-3000:])
        continue
    got = sorted((f["kind"], f.get("shape")) for f in report["findings"])
    want = sorted((f["kind"], f.get("shape")) for f in m["findings"])
    env.check(got == want, name + ": the manifest's findings", "got %s, want %s" % (got, want))
    if env.cli:
        cli = subprocess.run([env.cli, "triage", "--json", core, env.program(name)],
                             capture_output=True, text=True, timeout=60)
        env.check(text == cli.stdout, name + ": triage --json is the CLI's, byte for byte",
                  "lldb:\n%s\ncli:\n%s\n%s" % (text[:3000], cli.stdout[:3000], cli.stderr))
env.finish()
