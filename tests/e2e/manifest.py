"""Example manifests (examples/NAME.expect): what a correct triage says.

A manifest is a JSON object:

  line      the one line the example prints when its hang is in place
  findings  the exact list of findings, each with
              kind          e.g. "deadlock", "blocked-executor"
              shape         deadlocks only: "lock-order", "self", ...
              tasks         task names the finding must name
              also_tasks    globs of other task names it may name (default:
                            none, so `tasks` is then the exact set)
              objects       [{"kind", "name"}] it must name
              also_objects  globs of other object names it may name
  waits     where tasks wait, each with
              task          a task name or a glob (every match is checked)
              tag           the `/* wait: TAG */` mark in NAME.c, resolved
                            to a line number here
              function      the function on that line
              running       true: the task runs (blocked in a system call),
                            so the line is only checked in its backtrace
  args      optional arguments for the example program
"""

import json
import os
import re

TAG_RE = re.compile(r"/\*\s*wait:\s*([A-Za-z0-9_.-]+)\s*\*/")


class ManifestError(Exception):
    pass


def resolve_tags(source_path):
    """Map each `/* wait: TAG */` in a source file to its 1-based line."""
    tags = {}
    with open(source_path, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            for tag in TAG_RE.findall(text):
                if tag in tags:
                    raise ManifestError("%s: tag %r on lines %d and %d"
                                        % (source_path, tag, tags[tag], number))
                tags[tag] = number
    return tags


def _require(cond, path, message):
    if not cond:
        raise ManifestError("%s: %s" % (path, message))


def _check_finding(path, i, f):
    where = "findings[%d]" % i
    _require(isinstance(f, dict), path, where + " is not an object")
    _require(isinstance(f.get("kind"), str), path, where + ".kind missing")
    for key in ("tasks", "also_tasks", "also_objects"):
        v = f.get(key, [])
        _require(isinstance(v, list) and all(isinstance(x, str) for x in v),
                 path, "%s.%s must be a list of strings" % (where, key))
    objs = f.get("objects", [])
    _require(isinstance(objs, list) and all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in objs),
        path, where + ".objects must be a list of {kind, name}")


def load(source_dir, name):
    """Load examples/NAME.expect, resolving its wait tags against NAME.c."""
    path = os.path.join(source_dir, name + ".expect")
    source = os.path.join(source_dir, name + ".c")
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        raise ManifestError("%s: %s" % (path, e))
    _require(isinstance(m, dict), path, "not a JSON object")
    _require(isinstance(m.get("line"), str), path, "'line' missing")
    _require(isinstance(m.get("findings"), list), path, "'findings' missing")
    for i, f in enumerate(m["findings"]):
        _check_finding(path, i, f)
    tags = resolve_tags(source)
    waits = m.get("waits", [])
    _require(isinstance(waits, list), path, "'waits' must be a list")
    for w in waits:
        _require(isinstance(w, dict) and "task" in w and "tag" in w
                 and "function" in w, path,
                 "each wait needs task, tag and function")
        _require(w["tag"] in tags, path,
                 "tag %r not found in %s" % (w["tag"], source))
        w["file"] = os.path.basename(source)
        w["line"] = tags[w["tag"]]
    m["waits"] = waits
    m["name"] = name
    m.setdefault("args", [])
    return m
