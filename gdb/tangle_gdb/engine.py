"""ctypes binding of libtangle-inspect (inspect/include/tangle_inspect.h).

This module only loads the library and declares its types; it decides
nothing. Finding the library, in order:
  1. $TANGLE_INSPECT_LIB (unless it was built with ASan or TSan: loading
     that would abort gdb, so it is skipped with a note);
  2. the paths the loader passes (a build tree's loader names its engine);
  3. beside this package once installed (the install writes, next to the
     package, tangle-gdb.libdir naming the library directory);
  4. the build trees of a source checkout this package sits in
     (build/, then other build*/ directories, newest first; libraries built
     with a sanitizer cannot be loaded into gdb and are skipped);
  5. the dynamic linker's search path.
"""

import ctypes
import glob
import os

SONAME = "libtangle-inspect.so.0"

# enum tangle_inspect_code
ENOMEM, EREAD, ENOTABLE, EVERSION, ECORRUPT, EUSAGE, ENOTFOUND, ESYSTEM, \
    EUNSUPPORTED = range(1, 10)
# enum tangle_now_kind
NOW_TABLE, NOW_MONO, NOW_REAL = 0, 1, 2
# enum tangle_debug_task_state (tangle_debug.h)
TASK_STATES = {0: "free", 1: "runnable", 2: "running", 3: "waiting",
               4: "done", 5: "cancelled"}
TASK_RUNNING = 2

CONTEXT_MAX = 32


class Error(Exception):
    """An engine error (tangle_error) or a failure to load the engine."""

    def __init__(self, message, code=0):
        super().__init__(message)
        self.code = code


class ContextReg(ctypes.Structure):
    _fields_ = [("dwarf", ctypes.c_uint16), ("value", ctypes.c_uint64)]


class Context(ctypes.Structure):
    _fields_ = [("arch", ctypes.c_uint16), ("count", ctypes.c_uint16),
                ("reserved", ctypes.c_uint32), ("pc", ctypes.c_uint64),
                ("sp", ctypes.c_uint64), ("saved_sp", ctypes.c_uint64),
                ("resume_pc", ctypes.c_uint64),
                ("regs", ContextReg * CONTEXT_MAX)]


class Frame(ctypes.Structure):
    _fields_ = [("pc", ctypes.c_uint64), ("line", ctypes.c_uint32),
                ("inlined", ctypes.c_uint8),
                ("reserved", ctypes.c_uint8 * 3),
                ("function", ctypes.c_char * 128),
                ("file", ctypes.c_char * 256)]


class TaskInfo(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("address", ctypes.c_uint64),
                ("state", ctypes.c_int), ("suspended", ctypes.c_int),
                ("worker_tid", ctypes.c_uint32),
                ("reserved", ctypes.c_uint32),
                ("name", ctypes.c_char * 32), ("wait", ctypes.c_char * 160),
                ("context", Context)]


class TaskBrief(ctypes.Structure):
    """tangle_task_brief: what listing tasks needs, no memory read."""
    _fields_ = [("id", ctypes.c_uint64), ("address", ctypes.c_uint64),
                ("state", ctypes.c_int), ("worker_tid", ctypes.c_uint32)]


class ErrorStruct(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("address", ctypes.c_uint64),
                ("message", ctypes.c_char_p)]


READ_FN = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_uint64,
                           ctypes.c_void_p, ctypes.c_size_t)
LOOKUP_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
                             ctypes.POINTER(ctypes.c_uint64))
CLOSE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
TASK_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p,
                           ctypes.POINTER(Context), ctypes.POINTER(Frame),
                           ctypes.c_int)
THREAD_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32,
                             ctypes.POINTER(Frame), ctypes.c_int)


class Reader(ctypes.Structure):
    _fields_ = [("ctx", ctypes.c_void_p), ("read", READ_FN),
                ("lookup", LOOKUP_FN), ("close", CLOSE_FN)]


class Unwinder(ctypes.Structure):
    _fields_ = [("ctx", ctypes.c_void_p), ("task", TASK_FN),
                ("thread", THREAD_FN)]


class Options(ctypes.Structure):
    _fields_ = [("root", ctypes.c_uint64), ("now_kind", ctypes.c_int),
                ("now", ctypes.c_uint64), ("torn", ctypes.c_int),
                ("target", ctypes.c_char_p)]


def _declare(lib):
    p = ctypes.c_void_p
    sigs = {
        "tangle_session_open": (ctypes.POINTER(ErrorStruct),
                                [ctypes.POINTER(Reader),
                                 ctypes.POINTER(Unwinder),
                                 ctypes.POINTER(Options),
                                 ctypes.POINTER(p)]),
        "tangle_session_free": (None, [p]),
        "tangle_session_run": (p, [p, ctypes.c_int,
                                   ctypes.POINTER(ctypes.c_char_p),
                                   ctypes.POINTER(ctypes.c_int)]),
        "tangle_inspect_free": (None, [p]),
        "tangle_inspect_usage": (ctypes.c_char_p, [ctypes.c_char_p]),
        "tangle_session_task_count": (ctypes.c_size_t, [p]),
        "tangle_session_task_at": (ctypes.c_int, [p, ctypes.c_size_t,
                                                  ctypes.POINTER(TaskInfo)]),
        "tangle_session_task_by_id": (ctypes.c_int,
                                      [p, ctypes.c_uint64,
                                       ctypes.POINTER(TaskInfo)]),
        "tangle_session_describe": (ctypes.c_int, [p, ctypes.c_uint64,
                                                   ctypes.c_char_p,
                                                   ctypes.c_size_t]),
        "tangle_error_free": (None, [ctypes.POINTER(ErrorStruct)]),
    }
    # Newer calls: an engine without them still works, more slowly
    # (session.py falls back).
    optional = {
        "tangle_session_task_briefs": (ctypes.c_size_t,
                                       [p, ctypes.c_size_t,
                                        ctypes.POINTER(TaskBrief),
                                        ctypes.c_size_t]),
        "tangle_inspect_option_takes_value": (ctypes.c_int,
                                              [ctypes.c_char_p]),
        "tangle_session_describe_waiters": (ctypes.c_int,
                                            [p, ctypes.c_uint64,
                                             ctypes.c_uint, ctypes.c_char_p,
                                             ctypes.c_size_t]),
    }
    for name, (restype, argtypes) in list(sigs.items()) + \
            list(optional.items()):
        fn = getattr(lib, name, None)
        if fn is None and name in optional:
            continue
        if fn is None:
            raise AttributeError("%s has no %s" % (lib._name, name))
        fn.restype = restype
        fn.argtypes = argtypes


_SANITIZED = (b"libasan.so", b"libtsan.so", b"libmsan.so", b"libhwasan.so")


def _sanitized(path):
    """True for a library built with ASan/TSan: dlopen'ing one into gdb
    would abort gdb ("runtime does not come first")."""
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 24)
    except OSError:
        return False
    return any(s in data for s in _SANITIZED)


def _build_tree_candidates(pkg_parent):
    """Engine libraries in the build trees of the checkout pkg_parent
    (…/gdb) belongs to."""
    src = os.path.dirname(pkg_parent)
    if not os.path.isfile(os.path.join(src, "inspect", "include",
                                       "tangle_inspect.h")):
        return []
    trees = glob.glob(os.path.join(src, "build*"))
    trees.sort(key=lambda d: (os.path.basename(d) != "build",
                              -os.path.getmtime(d)))
    out = []
    for tree in trees:
        for sub in ("gdb", "inspect"):
            out.append(os.path.join(tree, sub, "libtangle-inspect.so"))
    return out


def candidates(pkg_parent, hints=(), env=True):
    """Where to look for the engine, in order (see the module's comment)."""
    var = os.environ.get("TANGLE_INSPECT_LIB") if env else None
    if var:
        return [var]
    out = list(hints)
    out.append(os.path.join(pkg_parent, SONAME))
    hint = os.path.join(pkg_parent, "tangle-gdb.libdir")
    if os.path.isfile(hint):
        with open(hint) as f:
            libdir = f.read().strip()
        out.append(os.path.normpath(os.path.join(pkg_parent, libdir, SONAME)))
    out.extend(_build_tree_candidates(pkg_parent))
    return out


def load(pkg_parent, hints=()):
    """Load the engine: (CDLL, path, note). note is a line to show, or None.
    Raises Error with a one-line message when none can be loaded."""
    var = os.environ.get("TANGLE_INSPECT_LIB")
    note = None
    if var:
        if not os.path.exists(var):
            raise Error("tangle: TANGLE_INSPECT_LIB=%s does not exist" % var)
        if not _sanitized(var):
            try:
                lib = ctypes.CDLL(os.path.realpath(var))
                _declare(lib)
                return lib, var, None
            except (OSError, AttributeError) as e:
                raise Error("tangle: cannot load TANGLE_INSPECT_LIB=%s: %s"
                            % (var, e))
        # Loading it would abort gdb: say so and look where we would have.
        note = ("tangle: TANGLE_INSPECT_LIB=%s is built with a sanitizer, "
                "which gdb cannot load; looking elsewhere" % var)
    tried = []
    for path in candidates(pkg_parent, hints, env=False):
        if not os.path.exists(path):
            tried.append(path)
            continue
        if _sanitized(path):
            tried.append(path + " (sanitizer build)")
            continue
        try:
            lib = ctypes.CDLL(os.path.realpath(path))
            _declare(lib)
            return lib, path, note
        except (OSError, AttributeError) as e:
            tried.append("%s (%s)" % (path, e))
    try:
        lib = ctypes.CDLL(SONAME)
        _declare(lib)
        return lib, SONAME, note
    except (OSError, AttributeError):
        tried.append(SONAME)
    raise Error("tangle: libtangle-inspect not found (tried %s); "
                "set TANGLE_INSPECT_LIB to its path" % ", ".join(tried))


def one_line(message):
    """An engine message as gdb shows it: one line, saying it is tangle's."""
    message = " ".join(message.split("\n")).strip() or "unknown error"
    return message if message.startswith("tangle") else "tangle: " + message


def take_error(lib, err):
    """Turn a tangle_error * into an Error and free it."""
    e = err.contents
    message = one_line((e.message or b"").decode("utf-8", "replace"))
    code = e.code
    lib.tangle_error_free(err)
    return Error(message, code)


def text(raw):
    return raw.decode("utf-8", "replace") if raw else ""
