#!/usr/bin/env python3
"""The demo prints what README.md says it prints.

  test_demo.py --build BUILD [--source SRC]

Runs scripts/demo-run.sh BUILD (a kernel core, then a forced gcore one)
and compares its stdout with the block under "## What the demo prints" in
README.md, line for line. Only the durations (`1.0s`) and the core's size
(`292 KiB on disk`) may differ; anything else (signature, lines, task ids
and names, the wording of the demo's own lines) is drift and fails. Also
checks that scripts/demo.sh refuses to go on, loudly, when demo-run.sh is
not executable.
Exit status 0: passed; 1: failed; 2: could not run.
"""

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

SECTION = "## What the demo prints"
VARYING = [
    (re.compile(r"\b\d+(?:\.\d+)?(?:ns|us|ms|s|min|h)\b"), "<duration>"),
    (re.compile(r"\(\d+ KiB on disk\)"), "(<size> KiB on disk)"),
]


def readme_block(readme_text):
    """The lines of the first ``` block after the demo section's heading."""
    at = readme_text.find("\n" + SECTION + "\n")
    if at < 0:
        raise ValueError("README.md has no %r section" % SECTION)
    start = readme_text.find("\n```\n", at)
    end = readme_text.find("\n```\n", start + 5)
    if start < 0 or end < 0:
        raise ValueError("README.md: no ``` block under %r" % SECTION)
    return readme_text[start + 5:end + 1].splitlines()


def normalize(lines):
    out = []
    for line in lines:
        for pattern, repl in VARYING:
            line = pattern.sub(repl, line)
        out.append(line.rstrip())
    while out and not out[-1]:
        out.pop()
    return out


def compare(readme_lines, demo_lines):
    """Problems (strings) where the demo's output and README's block differ."""
    want, got = normalize(readme_lines), normalize(demo_lines)
    if want == got:
        return []
    diff = difflib.unified_diff(want, got, "README.md", "demo-run.sh", lineterm="")
    return ["the demo's output differs from README.md's block (durations and "
            "sizes normalized):\n" + "\n".join(diff)]


def run_demo(source, build, env_extra):
    env = dict(os.environ)
    env.update(env_extra)
    # sh, not ./: the exec bit is demo.sh's business (checked below).
    r = subprocess.run(["sh", os.path.join(source, "scripts", "demo-run.sh"), build],
                       capture_output=True, text=True, timeout=120, env=env,
                       stdin=subprocess.DEVNULL)
    return r


def check_demo_sh_refuses(source):
    """demo.sh with a demo-run.sh that lost its exec bit: exit != 0, a
    message naming it, and nothing built (deps.sh never reached)."""
    tmp = tempfile.mkdtemp(prefix="e2e-demo-sh-")
    try:
        os.mkdir(os.path.join(tmp, "scripts"))
        shutil.copy(os.path.join(source, "scripts", "demo.sh"),
                    os.path.join(tmp, "scripts", "demo.sh"))
        shutil.copy(os.path.join(source, "scripts", "demo-run.sh"),
                    os.path.join(tmp, "scripts", "demo-run.sh"))
        os.chmod(os.path.join(tmp, "scripts", "demo-run.sh"), 0o644)
        marker = os.path.join(tmp, "deps-ran")
        with open(os.path.join(tmp, "scripts", "deps.sh"), "w") as f:
            f.write("#!/bin/sh\ntouch %s\nexit 1\n" % marker)
        os.chmod(os.path.join(tmp, "scripts", "deps.sh"), 0o755)
        r = subprocess.run(["sh", os.path.join(tmp, "scripts", "demo.sh")],
                           capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        problems = []
        if r.returncode == 0:
            problems.append("demo.sh exited 0")
        if "demo-run.sh" not in r.stderr or "not executable" not in r.stderr:
            problems.append("no message about demo-run.sh on stderr: %r" % r.stderr)
        if os.path.exists(marker):
            problems.append("demo.sh went on to deps.sh")
        return problems
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", required=True)
    p.add_argument("--source", default=os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..", ".."))
    opts = p.parse_args()
    source, build = os.path.abspath(opts.source), os.path.abspath(opts.build)
    try:
        with open(os.path.join(source, "README.md"), encoding="utf-8") as f:
            block = readme_block(f.read())
    except (OSError, ValueError) as e:
        print("demo: %s" % e)
        return 2
    failed = False
    runs = [("kernel core (or the fallback)", {}),
            ("forced gcore", {"TANGLE_DEMO_DUMP": "gcore",
                              "TANGLE_DEMO_CORE_CAP_MB": "512"})]
    for label, env in runs:
        r = run_demo(source, build, env)
        problems = [] if r.returncode == 0 else [
            "demo-run.sh exited %d\nstderr: %s" % (r.returncode, r.stderr[-2000:])]
        problems += compare(block, r.stdout.splitlines())
        print("%s demo-run.sh, %s, prints README.md's block" % (
            "FAIL" if problems else "ok  ", label))
        for problem in problems:
            print("     " + problem.replace("\n", "\n     "))
        failed = failed or bool(problems)
    problems = check_demo_sh_refuses(source)
    print("%s demo.sh fails loudly when demo-run.sh is not executable"
          % ("FAIL" if problems else "ok  "))
    for problem in problems:
        print("     " + problem)
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
