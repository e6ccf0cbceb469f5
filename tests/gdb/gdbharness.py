"""Helpers of the gdb -batch tests (gdbtest.py): running gdb, making cores,
checking output. The cases are in cases_toy.py and cases_rt.py."""

import os
import re
import subprocess

CASES = {}
ARGS = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class Failure(Exception):
    pass


def gdb(commands, program=None, core=None, env=None, load=True, pre=(),
        timeout=60, args=()):
    """Run gdb -batch with commands; return stdout+stderr."""
    argv = ["gdb", "-batch", "-nx", "-q", "-iex", "set pagination off",
            "-iex", "set width 0", "-iex", "set confirm off"]
    for c in pre:
        argv += ["-iex", c]
    if load:
        argv += ["-x", ARGS["loader"]]
    for c in commands:
        argv += ["-ex", c]
    if program:
        if args:
            argv += ["--args", program] + list(args)
        else:
            argv.append(program)
            if core:
                argv.append(core)
    full_env = dict(os.environ)
    full_env.pop("TANGLE_INSPECT_LIB", None)
    full_env.update(env or {})
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=full_env, timeout=timeout, cwd=workdir())
    return p.stdout.decode("utf-8", "replace")


def workdir():
    d = ARGS["workdir"]
    os.makedirs(d, exist_ok=True)
    return d


# Source lines the tests expect, found by what is on them ({L:NAME} in a
# pattern; {L:NAME+1} for the line after).
MARKS = {"sleep": "tangle_sleep_ms(600000);", "recurse": "sleep_deep(depth - 1);",
         "sleeper": "sleep_deep(2);", "park": "tangle_park(what);",
         "join": "tangle_join(target, NULL);",
         "ready": '__asm__ volatile("" ::: "memory");'}
_lines = {}


def _line(name):
    if not _lines:
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "gdb_tasks.c")
        with open(src) as f:
            for n, text in enumerate(f, 1):
                for key, mark_ in MARKS.items():
                    if mark_ in text and key not in _lines:
                        _lines[key] = n
    return _lines[name]


def _expand(pat):
    return re.sub(r"\{L:(\w+)(\+1)?\}",
                  lambda m: str(_line(m.group(1)) + (1 if m.group(2) else 0)),
                  pat)


def expect(out, *patterns):
    for pat in map(_expand, patterns):
        if not re.search(pat, out, re.M):
            raise Failure("missing /%s/ in output:\n%s" % (pat, out))


def reject(out, *patterns):
    for pat in map(_expand, patterns):
        m = re.search(pat, out, re.M)
        if m:
            raise Failure("unexpected /%s/ (%r) in output:\n%s"
                          % (pat, m.group(0), out))


def section(out, start, end=None):
    """The output between the marker lines `echo START` and `echo END`."""
    i = out.find(start)
    if i < 0:
        raise Failure("no marker %s in output:\n%s" % (start, out))
    j = out.find(end, i) if end else -1
    return out[i:j if j >= 0 else len(out)]


def mark(name):
    return "echo @@%s\\n" % name


CORE_LIMIT = 1 << 30   # no test core is near this; a runaway one stops here


def assert_plain(program):
    """Refuse to dump a sanitized process: its core holds the shadow memory
    (terabytes, sparse) and fills the disk."""
    p = subprocess.run(["ldd", program], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    with open(program, "rb") as f:
        data = f.read()
    if re.search(rb"lib[at]san\.so", p.stdout + data):
        raise Failure("%s is built with a sanitizer: no core dumps of it"
                      % program)


def make_core(program, stop, name, args=()):
    """Run program to the breakpoint stop and gcore it; return the path."""
    assert_plain(program)
    path = os.path.join(workdir(), name)
    if os.path.exists(path):
        os.remove(path)
    out = gdb(["break " + stop, "run", "gcore " + path, "kill"], program,
              load=False, args=args)
    if not os.path.exists(path):
        raise Failure("no core made:\n" + out)
    return path


def fake_env():
    return {"TANGLE_INSPECT_LIB": ARGS["fake"]}


class Skip(Exception):
    pass

