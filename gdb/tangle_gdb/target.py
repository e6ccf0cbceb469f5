"""What the engine needs of the target, from gdb: memory in bulk, symbols,
"now", and native frames (through frames.py).

Memory: one gdb read per range the engine asks for; only when that fails
is the range probed page by page to return the readable prefix (the
reader contract: a short count means the rest is unreadable).
"""

import ctypes
import os
import re
import time

import gdb

from . import engine, frames

PAGE = 4096
DEBUG_SYMBOL = "tangle_debug_root"
DEBUG_SECTION = ".tangle_debug"
DEBUG_MAGIC = b"TNGLDBG\0"

_MEM_ERRORS = (gdb.MemoryError, gdb.error, ValueError, OverflowError)


def read(inferior, addr, length):
    """The readable prefix of [addr, addr+length) as a buffer."""
    try:
        return inferior.read_memory(addr, length)
    except _MEM_ERRORS:
        pass
    chunks, pos, end = [], addr, addr + length
    while pos < end:
        step = min(end, (pos // PAGE + 1) * PAGE) - pos
        try:
            chunks.append(inferior.read_memory(pos, step).tobytes())
        except _MEM_ERRORS:
            break
        pos += step
    return b"".join(chunks)


def files_info():
    try:
        return gdb.execute("info files", to_string=True)
    except gdb.error:
        return ""


_CORE_RE = re.compile(r"^Local core dump file:\s*\n\s*`(.*)', file type",
                      re.M)
_SECTION_RE = re.compile(r"^\s*(0x[0-9a-f]+) - (0x[0-9a-f]+) is "
                         + re.escape(DEBUG_SECTION) + r"(?: in (.*))?$", re.M)


def _open_cores():
    """Real paths of the ELF core files this gdb process has open."""
    found = set()
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            path = os.readlink("/proc/self/fd/" + fd)
            if not path.startswith("/"):
                continue
            head = os.pread(int(fd), 18, 0)
        except (OSError, ValueError):
            continue
        # ELF, e_type (at 16, either byte order) == ET_CORE
        if len(head) == 18 and head[:4] == b"\x7fELF" and (
                head[16:18] == b"\x04\x00" if head[5] == 1
                else head[16:18] == b"\x00\x04"):
            found.add(path)
    return found


def core_path():
    """Real path of the core file gdb has loaded, or None. `info files`
    names it, but prints every section of the core first (0.8 s for a core
    with 200,000 segments), so the core gdb keeps open is tried first."""
    cores = _open_cores()
    if len(cores) == 1:
        return cores.pop()
    m = _CORE_RE.search(files_info())
    return os.path.realpath(m.group(1)) if m else None


def kind(inferior):
    """'core', 'live' (a native process on this machine), 'remote' or
    None (no process)."""
    if inferior is None or inferior.pid == 0:
        return None
    conn = getattr(inferior, "connection", None)
    ctype = getattr(conn, "type", None) if conn is not None else None
    if ctype == "core":
        return "core"
    if ctype == "native":
        return "live"
    if ctype is not None:
        return "remote"
    return "core" if core_path() else "live"


def now(target_kind, core=None):
    """(now_kind, now) for the session options: a live native process uses
    this machine's CLOCK_MONOTONIC, a core its file's mtime (the wall clock
    of the dump, as the CLI does)."""
    if target_kind == "live":
        return engine.NOW_MONO, time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    if target_kind == "core":
        path = core
        if path:
            try:
                return engine.NOW_REAL, os.stat(path).st_mtime_ns
            except OSError:
                pass
    return engine.NOW_TABLE, 0


def lookup(inferior, name):
    """Address of a global symbol, or None. For the debug root, also the
    .tangle_debug section (stripped programs)."""
    try:
        sym = gdb.lookup_global_symbol(name)
        if sym is not None and sym.is_variable:
            return int(sym.value().address)
    except gdb.error:
        pass
    try:
        # Minimal symbols (no debug info) too.
        return int(gdb.parse_and_eval("(unsigned long)&'%s'" % name))
    except gdb.error:
        pass
    if name == DEBUG_SYMBOL:
        return _section_root(inferior)
    return None


def _section_root(inferior):
    for m in _SECTION_RE.finditer(files_info()):
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        data = bytes(read(inferior, start, min(end - start, 1 << 16)))
        for off in range(0, len(data) - 7, 8):
            if data[off:off + 8] == DEBUG_MAGIC:
                return start + off
    return None


class Callbacks:
    """The tangle_reader and tangle_unwinder handed to the engine. Keeps the
    ctypes callback objects alive as long as the session."""

    def __init__(self, inferior):
        self.inferior = inferior
        self.reader = engine.Reader(None, engine.READ_FN(self._read),
                                    engine.LOOKUP_FN(self._lookup),
                                    engine.CLOSE_FN(0))
        self.unwinder = engine.Unwinder(None, engine.TASK_FN(self._task),
                                        engine.THREAD_FN(self._thread))

    def _read(self, _ctx, addr, buf, length):
        try:
            data = read(self.inferior, addr, length)
            n = len(data)
            if n:
                if isinstance(data, bytes):
                    ctypes.memmove(buf, data, n)
                elif n <= 65536:   # copying is cheaper than a ctypes view
                    ctypes.memmove(buf, data.tobytes(), n)
                else:
                    ctypes.memmove(buf, (ctypes.c_char * n).from_buffer(data),
                                   n)
            return n
        except Exception:  # never let an exception cross into C
            return 0

    def _lookup(self, _ctx, name, out):
        try:
            addr = lookup(self.inferior, name.decode())
            if addr is None:
                return -1
            out[0] = addr
            return 0
        except Exception:
            return -1

    def _task(self, _ctx, context, out, limit):
        try:
            c = context.contents
            ctx = frames.Context(c.arch, c.pc, c.sp, c.saved_sp,
                                 [(c.regs[i].dwarf, c.regs[i].value)
                                  for i in range(min(c.count,
                                                     engine.CONTEXT_MAX))])
            return _fill(frames.task_frames(ctx, limit), out)
        except Exception:
            return -1

    def _thread(self, _ctx, tid, out, limit):
        try:
            return _fill(frames.thread_frames(tid, limit), out)
        except Exception:
            return -1


def _fill(rows, out):
    if rows is None:
        return -1
    for i, (pc, function, path, line, inlined) in enumerate(rows):
        f = out[i]
        f.pc = pc
        f.line = line
        f.inlined = 1 if inlined else 0
        f.function = function.encode("utf-8", "replace")[:127]
        f.file = path.encode("utf-8", "replace")[:255]
    return len(rows)
