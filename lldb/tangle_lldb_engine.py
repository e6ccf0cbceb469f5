"""ctypes binding of libtangle-inspect (inspect/include/tangle_inspect.h).

Knows nothing of lldb, so it works from a plain Python too. The engine does
all decoding and analysis; this module only finds and loads the library,
mirrors the public structs, wraps Python callables as a tangle_reader and a
tangle_unwinder, and runs commands.

Invariants:
  - Struct layouts mirror tangle_inspect.h field by field; change both
    together.
  - A Session owns the ctypes callback objects of its reader and unwinder:
    the engine keeps raw pointers to them, so they live as long as it does.
  - Callbacks never raise into C: an exception is an unreadable range, a
    missing symbol or "cannot unwind".
"""

import ctypes
import glob
import os
import struct

LIB_NAME = "libtangle-inspect.so"
LIB_ENV = "TANGLE_INSPECT_LIB"

NOW_TABLE, NOW_MONO, NOW_REAL = 0, 1, 2
CONTEXT_MAX = 32
STATUS_ERROR = 2

c_u8, c_u16, c_u32, c_u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64


class Error(Exception):
    """An engine or loading failure with its one-line message."""


class TangleError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("address", c_u64), ("message", ctypes.c_char_p)]


READ_FN = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, c_u64, ctypes.c_void_p,
                           ctypes.c_size_t)
LOOKUP_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
                             ctypes.POINTER(c_u64))
CLOSE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class Reader(ctypes.Structure):
    _fields_ = [("ctx", ctypes.c_void_p), ("read", READ_FN), ("lookup", LOOKUP_FN),
                ("close", CLOSE_FN)]


class ContextReg(ctypes.Structure):
    _fields_ = [("dwarf", c_u16), ("value", c_u64)]


class Context(ctypes.Structure):
    _fields_ = [("arch", c_u16), ("count", c_u16), ("reserved", c_u32), ("pc", c_u64),
                ("sp", c_u64), ("saved_sp", c_u64), ("resume_pc", c_u64),
                ("regs", ContextReg * CONTEXT_MAX)]


class Frame(ctypes.Structure):
    _fields_ = [("pc", c_u64), ("line", c_u32), ("inlined", c_u8), ("reserved", c_u8 * 3),
                ("function", ctypes.c_char * 128), ("file", ctypes.c_char * 256)]


TASK_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(Context),
                           ctypes.POINTER(Frame), ctypes.c_int)
THREAD_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, c_u32, ctypes.POINTER(Frame),
                             ctypes.c_int)


class Unwinder(ctypes.Structure):
    _fields_ = [("ctx", ctypes.c_void_p), ("task", TASK_FN), ("thread", THREAD_FN)]


class SessionOptions(ctypes.Structure):
    _fields_ = [("root", c_u64), ("now_kind", ctypes.c_int), ("now", c_u64),
                ("torn", ctypes.c_int), ("target", ctypes.c_char_p)]


class TaskInfo(ctypes.Structure):
    """A task as the engine describes it to debuggers (tangle_task_info)."""

    _fields_ = [("id", c_u64), ("address", c_u64), ("state", ctypes.c_int),
                ("suspended", ctypes.c_int), ("worker_tid", c_u32), ("reserved", c_u32),
                ("name", ctypes.c_char * 32), ("wait", ctypes.c_char * 160),
                ("context", Context)]


_REG = struct.Struct("<H6xQ")  # ContextReg: u16 dwarf, padding, u64 value


def context_regs(context):
    """[(dwarf, value)] of a Context, read in one go (not field by field)."""
    n = min(context.count, CONTEXT_MAX)
    raw = ctypes.string_at(ctypes.addressof(context.regs), n * _REG.size)
    return list(_REG.iter_unpack(raw))


def _row_format():
    """A struct format for the fields of TaskInfo a row needs, at the
    offsets ctypes gives them (so it follows the Structure above)."""
    fields = [(TaskInfo.id, "Q"), (TaskInfo.state, "i"), (TaskInfo.suspended, "i"),
              (TaskInfo.worker_tid, "I"), (TaskInfo.name, "32s"), (TaskInfo.wait, "160s")]
    ctx = TaskInfo.context.offset
    fields += [(ctx + Context.arch.offset, "H"), (ctx + Context.count.offset, "H"),
               (ctx + Context.pc.offset, "Q"), (ctx + Context.sp.offset, "Q"),
               (ctx + Context.saved_sp.offset, "Q")]
    fmt, at = "<", 0
    for field, code in fields:
        offset = field if isinstance(field, int) else field.offset
        fmt += "%dx%s" % (offset - at, code) if offset > at else code
        at = offset + struct.calcsize("<" + code)
    return struct.Struct(fmt)


_ROW = _row_format()
_REGS_AT = TaskInfo.context.offset + Context.regs.offset


def _cstr(raw):
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


class TaskRow(object):
    """A task as task_rows() gives it: plain Python values."""

    __slots__ = ("id", "state", "suspended", "worker_tid", "name", "wait", "arch",
                 "pc", "sp", "saved_sp", "_regs")

    def __init__(self, id, state, suspended, worker_tid, name, wait, arch, pc, sp,
                 saved_sp, regs):
        self.id, self.state, self.suspended, self.worker_tid = id, state, suspended, worker_tid
        self.name, self.wait, self.arch = name, wait, arch
        self.pc, self.sp, self.saved_sp, self._regs = pc, sp, saved_sp, regs

    def regs(self):
        """[(dwarf, value)] of its saved context."""
        return list(_REG.iter_unpack(self._regs))


def _declare(lib):
    P = ctypes.POINTER
    lib.tangle_session_open.argtypes = [P(Reader), P(Unwinder), P(SessionOptions),
                                        P(ctypes.c_void_p)]
    lib.tangle_session_open.restype = P(TangleError)
    lib.tangle_session_free.argtypes = [ctypes.c_void_p]
    lib.tangle_session_free.restype = None
    lib.tangle_session_run.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                       P(ctypes.c_char_p), P(ctypes.c_int)]
    lib.tangle_session_run.restype = ctypes.c_void_p
    lib.tangle_inspect_free.argtypes = [ctypes.c_void_p]
    lib.tangle_inspect_free.restype = None
    lib.tangle_inspect_usage.argtypes = [ctypes.c_char_p]
    lib.tangle_inspect_usage.restype = ctypes.c_char_p
    lib.tangle_inspect_option_takes_value.argtypes = [ctypes.c_char_p]
    lib.tangle_inspect_option_takes_value.restype = ctypes.c_int
    lib.tangle_inspect_runtime_frame.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.tangle_inspect_runtime_frame.restype = ctypes.c_int
    lib.tangle_error_free.argtypes = [P(TangleError)]
    lib.tangle_error_free.restype = None
    lib.tangle_session_task_count.argtypes = [ctypes.c_void_p]
    lib.tangle_session_task_count.restype = ctypes.c_size_t
    # the TaskInfo by address: tasks are filled in place in one array
    lib.tangle_session_task_at.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    lib.tangle_session_task_at.restype = ctypes.c_int
    lib.tangle_session_task_by_id.argtypes = [ctypes.c_void_p, c_u64, P(TaskInfo)]
    lib.tangle_session_task_by_id.restype = ctypes.c_int
    lib.tangle_session_describe.argtypes = [ctypes.c_void_p, c_u64, ctypes.c_char_p,
                                            ctypes.c_size_t]
    lib.tangle_session_describe.restype = ctypes.c_int
    return lib


# ---- Finding the library -----------------------------------------------------

HERE = os.path.dirname(os.path.realpath(__file__))


def _installed_candidates():
    """Beside this file once installed: the relative path CMake recorded."""
    out = [os.path.join(HERE, LIB_NAME)]
    try:
        import tangle_lldb_paths  # written by lldb/CMakeLists.txt at install
        out.append(os.path.normpath(os.path.join(HERE, tangle_lldb_paths.LIB_RELATIVE)))
    except ImportError:
        pass
    return out


def _sanitized(build_dir):
    """Whether a build tree was configured with a sanitizer (CMakeCache)."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("TANGLE_SANITIZE:") and line.split("=", 1)[1].strip():
                    return True
    except OSError:
        pass
    return False


# A library that needs one of these cannot be loaded into lldb: the
# sanitizer's runtime must come first in the process, and ASan aborts the
# process (lldb with it) when it comes later.
SANITIZER_RUNTIMES = ("libasan.", "libtsan.", "libhwasan.", "liblsan.", "libubsan.")


def needed(path):
    """The DT_NEEDED names of an ELF shared object ([] if it is not one)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    if data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        return []
    wide, end = data[4] == 2, "<" if data[5] == 1 else ">"
    try:
        if wide:
            shoff, = struct.unpack_from(end + "Q", data, 0x28)
            shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
            shdr, dyn = end + "IIQQQQIIQQ", end + "qQ"
        else:
            shoff, = struct.unpack_from(end + "I", data, 0x20)
            shentsize, shnum = struct.unpack_from(end + "HH", data, 0x2E)
            shdr, dyn = end + "IIIIIIIIII", end + "iI"
        sections = [struct.unpack_from(shdr, data, shoff + i * shentsize)
                    for i in range(min(shnum, 4096))]
        out = []
        for sec in sections:
            if sec[1] != 6:  # SHT_DYNAMIC
                continue
            strtab = sections[sec[6]]  # sh_link: its string table
            step = struct.calcsize(dyn)
            for off in range(sec[4], sec[4] + sec[5] - step + 1, step):
                tag, val = struct.unpack_from(dyn, data, off)
                if tag == 0:
                    break
                if tag == 1:  # DT_NEEDED
                    at = strtab[4] + val
                    out.append(data[at:data.index(b"\0", at)].decode("utf-8", "replace"))
        return out
    except (struct.error, IndexError, ValueError):
        return []


def _in_process(name):
    """Whether this process has a library of that name mapped already."""
    try:
        with open("/proc/self/maps") as f:
            return any(line.rstrip().endswith("/" + name) for line in f)
    except OSError:
        return False


def sanitizer_runtime(path):
    """The sanitizer runtime a library needs ("libasan.so.8") and this
    process lacks (a Python started with the runtime preloaded may load
    it), or None."""
    for name in needed(path):
        if name.startswith(SANITIZER_RUNTIMES) and not _in_process(name):
            return name
    return None


def _build_tree_candidates():
    """In the source tree's build folders (lldb/ sits at the top of it),
    newest first: a plain build's engine (build*/inspect/), or the plain
    copy a sanitizer build makes for lldb (build*/lldb/)."""
    src = os.path.dirname(HERE)
    found = []
    for build_dir in glob.glob(os.path.join(src, "build*")):
        path = os.path.join(build_dir, "inspect", LIB_NAME)
        if not os.path.isfile(path) or _sanitized(build_dir) or sanitizer_runtime(path):
            path = os.path.join(build_dir, "lldb", LIB_NAME)
            if not os.path.isfile(path) or sanitizer_runtime(path):
                continue
        found.append((os.path.getmtime(path), path))
    return [p for _, p in sorted(found, reverse=True)]


# Set by a build tree's loader (<build>/lldb/tangle_lldb_build.py): that
# build's engine, whatever the environment says.
BUILD_LIB = None


def find_library():
    """Return (path, None) or (None, one-line reason)."""
    if BUILD_LIB:
        if os.path.isfile(BUILD_LIB):
            return BUILD_LIB, None
        return None, "%s: no such file (build the engine first)" % BUILD_LIB
    env = os.environ.get(LIB_ENV)
    if env:
        if os.path.isfile(env):
            return env, None
        return None, "%s=%s: no such file" % (LIB_ENV, env)
    for path in _installed_candidates() + _build_tree_candidates():
        if os.path.isfile(path):
            return path, None
    return None, ("%s not found (looked beside %s, in the build folders of %s; "
                  "set %s to its path)" % (LIB_NAME, HERE, os.path.dirname(HERE), LIB_ENV))


_lib = None
_lib_error = None


def library():
    """The loaded engine; raises Error with a one-line message otherwise."""
    global _lib, _lib_error
    if _lib is None and _lib_error is None:
        path, why = find_library()
        if path is None:
            _lib_error = why
        elif sanitizer_runtime(path):
            _lib_error = _sanitized_message(path)
        else:
            try:
                _lib = _declare(ctypes.CDLL(path))
                _lib.path = path
            except (OSError, AttributeError) as e:
                _lib_error = "cannot load %s: %s" % (path, str(e).splitlines()[0])
    if _lib is None:
        raise Error(_lib_error)
    return _lib


def _sanitized_message(path):
    """Why a sanitizer build's engine is refused, and what to use instead."""
    plain = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(path))), "lldb",
                         LIB_NAME)
    instead = ("use %s, the plain copy that build makes for lldb" % plain
               if os.path.isfile(plain) and not sanitizer_runtime(plain)
               else "use the engine of a build without sanitizers")
    named = "%s=%s" % (LIB_ENV, path) if os.environ.get(LIB_ENV) == path else path
    return ("%s needs %s (a sanitizer build), which lldb cannot load: %s"
            % (named, sanitizer_runtime(path), instead))


def usage(command=None):
    text = library().tangle_inspect_usage(command.encode() if command else None)
    return text.decode("utf-8", "replace") if text else ""


def option_takes_value(word):
    """Whether the engine's option `word` takes the next word as its value."""
    return library().tangle_inspect_option_takes_value(word.encode()) == 1


def runtime_frame(function, path):
    """The engine's rule for the runtime's own frames (bt trims them)."""
    enc = lambda s: s.encode("utf-8", "replace") if s else None  # noqa: E731
    return library().tangle_inspect_runtime_frame(enc(function), enc(path)) != 0


# ---- Sessions ----------------------------------------------------------------

def _text(raw):
    return raw.decode("utf-8", "replace")


class Session(object):
    """One decoded view of one target.

    read(addr, size) -> bytes (possibly short: the readable prefix);
    lookup(name) -> address or None; unwind_task(TaskContext) and
    unwind_thread(tid) -> [FrameInfo] or None. Only read is required.
    """

    def __init__(self, read, lookup=None, unwind_task=None, unwind_thread=None,
                 now_kind=NOW_TABLE, now=0, target=None, root=0, torn=False):
        self._ptr = None
        self._keep = []
        lib = library()
        self._lib = lib
        reader = Reader()
        reader.read = READ_FN(self._read_cb(read))
        reader.lookup = LOOKUP_FN(self._lookup_cb(lookup)) if lookup else LOOKUP_FN()
        reader.close = CLOSE_FN()
        unwinder = None
        if unwind_task or unwind_thread:
            unwinder = Unwinder()
            unwinder.task = TASK_FN(self._task_cb(unwind_task)) if unwind_task else TASK_FN()
            unwinder.thread = (THREAD_FN(self._thread_cb(unwind_thread)) if unwind_thread
                               else THREAD_FN())
        opts = SessionOptions(root=root, now_kind=now_kind, now=now, torn=1 if torn else 0,
                              target=target.encode() if target else None)
        self._keep = [reader, unwinder, opts]
        out = ctypes.c_void_p()
        err = lib.tangle_session_open(ctypes.byref(reader),
                                      ctypes.byref(unwinder) if unwinder else None,
                                      ctypes.byref(opts), ctypes.byref(out))
        if err:
            message = _text(err.contents.message or b"unknown error")
            lib.tangle_error_free(err)
            raise Error(message)
        self._ptr = out

    def close(self):
        if self._ptr:
            self._lib.tangle_session_free(self._ptr)
            self._ptr = None

    def __del__(self):
        self.close()

    # Callbacks: C calls them; they must never raise.
    @staticmethod
    def _read_cb(read):
        def cb(ctx, addr, buf, size):
            try:
                data = read(addr, size) or b""
                n = min(len(data), size)
                ctypes.memmove(buf, data, n)
                return n
            except Exception:
                return 0
        return cb

    @staticmethod
    def _lookup_cb(lookup):
        def cb(ctx, name, out):
            try:
                addr = lookup(name.decode())
                if addr is None:
                    return -1
                out[0] = addr
                return 0
            except Exception:
                return -1
        return cb

    @staticmethod
    def _fill(frames, out, max_frames):
        if frames is None:
            return -1
        n = 0
        for f in frames[:max_frames]:
            dst = out[n]
            dst.pc = f.pc
            dst.line = f.line or 0
            dst.inlined = 1 if f.inlined else 0
            dst.function = (f.function or "").encode()[:127]
            dst.file = (f.file or "").encode()[:255]
            n += 1
        return n

    def _task_cb(self, unwind):
        def cb(ctx, context, out, max_frames):
            try:
                return self._fill(unwind(context.contents), out, max_frames)
            except Exception:
                return -1
        return cb

    def _thread_cb(self, unwind):
        def cb(ctx, tid, out, max_frames):
            try:
                return self._fill(unwind(tid), out, max_frames)
            except Exception:
                return -1
        return cb

    def run(self, argv):
        """Run one command; returns (status, text): 0 nothing found, 1
        findings, 2 error (text is then the message)."""
        args = [a.encode() for a in argv]
        arr = (ctypes.c_char_p * (len(args) + 1))(*(args + [None]))
        status = ctypes.c_int(STATUS_ERROR)
        raw = self._lib.tangle_session_run(self._ptr, len(args), arr, ctypes.byref(status))
        if not raw:
            return STATUS_ERROR, "out of memory"
        try:
            return status.value, _text(ctypes.string_at(raw))
        finally:
            self._lib.tangle_inspect_free(raw)

    def _task_array(self):
        """Every live task into one TaskInfo array; and which were filled."""
        n = self._lib.tangle_session_task_count(self._ptr)
        infos = (TaskInfo * n)()
        at, ptr = self._lib.tangle_session_task_at, self._ptr
        base, size = ctypes.addressof(infos), ctypes.sizeof(TaskInfo)
        ok = [at(ptr, i, base + i * size) == 0 for i in range(n)]
        return infos, ok

    def tasks(self):
        """Every live task, in id order, as TaskInfo structs (views into one
        array: 100,000 tasks make one allocation, not 100,000)."""
        infos, ok = self._task_array()
        return [infos[i] for i in range(len(ok)) if ok[i]]

    def task_rows(self):
        """Every live task, in id order, as TaskRow tuples: unpacked from the
        array in one pass, since ctypes field access costs microseconds
        each (seconds for 100,000 tasks)."""
        infos, ok = self._task_array()
        raw = memoryview(infos).cast("B")
        size = ctypes.sizeof(TaskInfo)
        unpack = _ROW.unpack_from
        out = []
        for i in range(len(ok)):
            if ok[i]:
                f = unpack(raw, i * size)
                at = i * size + _REGS_AT
                regs = bytes(raw[at:at + min(f[7], CONTEXT_MAX) * _REG.size])
                out.append(TaskRow(f[0], f[1], f[2], f[3], _cstr(f[4]), _cstr(f[5]),
                                   f[6], f[8], f[9], f[10], regs))
        return out

    def task(self, task_id):
        info = TaskInfo()
        if self._lib.tangle_session_task_by_id(self._ptr, task_id, ctypes.byref(info)) != 0:
            return None
        return info

    def describe(self, address):
        buf = ctypes.create_string_buffer(512)
        if self._lib.tangle_session_describe(self._ptr, address, buf, len(buf)) != 0:
            return None
        return _text(buf.value)


class FrameInfo(object):
    """A frame as a frontend reports it to the engine."""

    __slots__ = ("pc", "line", "inlined", "function", "file")

    def __init__(self, pc, function="", file="", line=0, inlined=False):
        self.pc, self.function, self.file, self.line, self.inlined = (
            pc, function, file, line, inlined)
