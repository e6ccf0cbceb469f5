"""Compare a `tangle triage --json` document with an example's manifest.

Every check returns a list of problems (strings); an empty list is a pass.
The accessors at the top are the only place that knows the JSON layout
(docs/json.md): findings[] with kind, shape, signature, tasks[] (id, name)
and objects[] (kind, name); tasks[] (in `tangle tasks --json`: all of
them) with id, name, state and wait.site (file, line, function).
"""

import fnmatch
import os
import re

# Object kinds as the manifests spell them, and the other spellings that
# mean the same.
KIND_ALIASES = {
    "semaphore": {"semaphore", "sem"},
    "channel": {"channel", "chan"},
    "mutex": {"mutex"},
    "rwlock": {"rwlock"},
    "notify": {"notify"},
    "task": {"task"},
}


# ---- accessors ------------------------------------------------------------

def findings(doc):
    return doc.get("findings") or []


def finding_task_names(f):
    return [t.get("name", "") if isinstance(t, dict) else str(t)
            for t in f.get("tasks") or []]


def finding_objects(f):
    out = []
    for o in f.get("objects") or []:
        if isinstance(o, dict):
            out.append((o.get("kind", ""), o.get("name", "")))
        else:
            out.append(("", str(o)))
    return out


def all_tasks(doc):
    return doc.get("tasks") or []


def task_wait_site(task):
    """(file, line, function) of the task's wait, or None."""
    wait = task.get("wait")
    if not isinstance(wait, dict):
        return None
    site = wait.get("site")
    if not isinstance(site, dict):
        return None
    return (site.get("file", ""), site.get("line", 0), site.get("function", ""))


def task_state(task):
    return str(task.get("state", ""))


# ---- checks -----------------------------------------------------------------

def _kind_matches(expected, actual):
    return actual in KIND_ALIASES.get(expected, {expected})


def _match_finding(exp, act):
    """Problems that keep act from being the finding exp describes."""
    problems = []
    if act.get("kind") != exp["kind"]:
        return ["kind %r" % act.get("kind")]
    if act.get("shape") != exp.get("shape"):
        return ["shape %r, expected %r" % (act.get("shape"), exp.get("shape"))]
    names = finding_task_names(act)
    for want in exp.get("tasks", []):
        if want not in names:
            problems.append("does not name task %r (names %s)" % (want, names))
    also = exp.get("also_tasks", [])
    for n in names:
        if n not in exp.get("tasks", []) and not any(
                fnmatch.fnmatchcase(n, g) for g in also):
            problems.append("names unexpected task %r" % n)
    objs = finding_objects(act)
    for want in exp.get("objects", []):
        if not any(name == want["name"] and _kind_matches(want.get("kind", kind), kind)
                   for kind, name in objs):
            problems.append("does not name %s %r (names %s)"
                            % (want.get("kind", "object"), want["name"], objs))
    wanted = {o["name"] for o in exp.get("objects", [])}
    for kind, name in objs:
        if name not in wanted and not any(
                fnmatch.fnmatchcase(name, g) for g in exp.get("also_objects", [])):
            problems.append("names unexpected %s %r" % (kind or "object", name))
    if not act.get("signature"):
        problems.append("has no signature")
    return problems


def describe(f):
    s = f.get("kind", "?")
    if f.get("shape"):
        s += "/" + f["shape"]
    return "%s %s" % (s, finding_task_names(f))


def check_findings(doc, manifest):
    """Exactly the manifest's findings, and no others."""
    problems = []
    actual = list(findings(doc))
    for exp in manifest["findings"]:
        label = exp["kind"] + ("/" + exp["shape"] if exp.get("shape") else "")
        best = None
        for i, act in enumerate(actual):
            why = _match_finding(exp, act)
            if not why:
                best = (i, [])
                break
            if act.get("kind") == exp["kind"] and (best is None or len(why) < len(best[1])):
                best = (i, why)
        if best is not None and not best[1]:
            del actual[best[0]]
        elif best is not None:
            problems.append("finding %s: %s" % (label, "; ".join(best[1])))
            del actual[best[0]]
        else:
            problems.append("finding %s missing" % label)
    for act in actual:
        problems.append("unexpected finding %s" % describe(act))
    return problems


def _tasks_named(doc, pattern):
    return [t for t in all_tasks(doc)
            if fnmatch.fnmatchcase(str(t.get("name", "")), pattern)]


def check_wait_sites(doc, manifest):
    """Each task of the manifest's waits waits at its tagged line (doc: the
    output of `tangle tasks --json`, which lists every task); a `running`
    one runs."""
    problems = []
    for w in manifest["waits"]:
        tasks = _tasks_named(doc, w["task"])
        if not tasks:
            problems.append("no task named %r in the JSON" % w["task"])
            continue
        if w.get("running"):
            problems.extend("task %r is %s, expected running" % (t.get("name"), task_state(t))
                            for t in tasks if task_state(t) != "running")
            continue
        for t in tasks:
            site = task_wait_site(t)
            want = "%s:%d (%s)" % (w["file"], w["line"], w["function"])
            if site is None:
                problems.append("task %r (state %s) has no wait site, expected %s"
                                % (t.get("name"), task_state(t), want))
            elif (os.path.basename(site[0]) != w["file"] or site[1] != w["line"]
                  or site[2] != w["function"]):
                problems.append("task %r waits at %s:%s (%s), expected %s"
                                % (t.get("name"), site[0], site[1], site[2], want))
    return problems


def bt_targets(doc, manifest):
    """(task id, wait) for the first task of each wait entry."""
    out = []
    for w in manifest["waits"]:
        tasks = _tasks_named(doc, w["task"])
        if tasks:
            out.append((tasks[0].get("id"), tasks[0].get("name"), w))
    return out


def check_bt_text(text, wait):
    """The backtrace shows the function and file:line where the task waits."""
    pattern = re.compile(r"\b%s\b.*\b%s:%d\b" % (re.escape(wait["function"]),
                                                  re.escape(wait["file"]),
                                                  wait["line"]))
    for line in text.splitlines():
        if pattern.search(line):
            return []
    return ["backtrace has no frame '%s ... %s:%d':\n%s"
            % (wait["function"], wait["file"], wait["line"], text.rstrip())]


_TASK_HEADER = re.compile(r'^task (\d+) "')
_FRAME = re.compile(r"^\s*#(\d+)\s+(\S+).*?\s(?:at\s+)?(\S+?):(\d+)\b(?:.*?<-\s*(.*\S))?")


def bt_sections(text):
    """{task id: its backtrace text} from the output of `tangle bt ID...`
    (CLI, gdb or lldb: each task starts with a `task ID "NAME"` line)."""
    out = {}
    current = None
    for line in text.splitlines():
        m = _TASK_HEADER.match(line)
        if m:
            current = int(m.group(1))
            out[current] = [line]
        elif current is not None:
            if line.startswith("(lldb)") or line.startswith("(gdb)"):
                current = None
            else:
                out[current].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def bt_wait_frame(text, wait):
    """(frame number, function, file:line, what it awaits or "") of the
    frame at the wait's function and line in a backtrace, or None."""
    if check_bt_text(text, wait):
        return None
    pattern = re.compile(r"\b%s\b.*\b%s:%d\b" % (re.escape(wait["function"]),
                                                  re.escape(wait["file"]), wait["line"]))
    for line in text.splitlines():
        if pattern.search(line):
            m = _FRAME.match(line)
            if m:
                return (int(m.group(1)), m.group(2),
                        "%s:%s" % (os.path.basename(m.group(3)), m.group(4)),
                        m.group(5) or "")
    return None


def check_same_wait_frame(cli_text, dbg_text, task_id, wait):
    """The debugger's `tangle bt` of task_id shows the wait's frame as the
    CLI's does: same frame number, function, file:line and awaited object."""
    dbg = bt_sections(dbg_text).get(task_id)
    if dbg is None:
        return ["no backtrace of task %s in the output:\n%s" % (task_id, dbg_text.rstrip()[-1500:])]
    got = bt_wait_frame(dbg, wait)
    want = bt_wait_frame(bt_sections(cli_text).get(task_id, cli_text), wait)
    if got is None:
        return check_bt_text(dbg, wait) or ["no frame line at %s:%d:\n%s"
                                             % (wait["file"], wait["line"], dbg)]
    if want is None:
        return ["the CLI's backtrace has no such frame to compare with"]
    if got != want:
        return ["frame differs from the CLI's:\n  cli: #%d %s at %s  <- %s\n  dbg: #%d %s at %s  <- %s"
                % (want + got)]
    return []


def signatures(doc):
    return sorted({f.get("signature", "") for f in findings(doc)})


def finding_task_ids(doc):
    return tuple(sorted(t.get("id") for f in findings(doc) for t in f.get("tasks") or []
                        if isinstance(t, dict)))


def finding_addresses(doc):
    return tuple(sorted(o.get("address") or "" for f in findings(doc)
                        for o in f.get("objects") or [] if isinstance(o, dict)))


def check_runs_differ(docs, aslr_off=False):
    """Runs meant to differ in task ids and object addresses (lock-order N
    with other N): (problems, why the address check was skipped or None).
    Task ids differ by construction; addresses by ASLR, so with ASLR off
    equal addresses are reported as a skip, not passed."""
    problems = []
    ids = [finding_task_ids(d) for d in docs]
    if any(not i for i in ids):
        problems.append("a run's findings name no task ids: %s" % ids)
    elif len(set(ids)) != len(ids):
        problems.append("task ids repeat across the runs: %s" % ids)
    addrs = [finding_addresses(d) for d in docs]
    if any(not a or "" in a for a in addrs):
        problems.append("a run's findings give no object addresses: %s" % addrs)
        return problems, None
    if len(set(addrs)) > 1:
        return problems, None
    if aslr_off:
        return problems, ("ASLR is off, so all %d runs have the objects at %s; "
                          "the addresses were not shown to vary" % (len(docs), addrs[0]))
    problems.append("all %d runs have the objects at the same addresses %s"
                    % (len(docs), addrs[0]))
    return problems, None
