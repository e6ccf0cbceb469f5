"""Which core file an lldb process was loaded from, and its time.

lldb 16 has no SB call for a process's core file (SBProcess.GetCoreFile came
later), yet the engine needs the core's mtime as "now" so that durations,
and the JSON, match the CLI's byte for byte. We collect candidate paths from
what lldb itself reports (the core is a module in `statistics dump`) and from
the files mapped into this process (lldb maps the core), and keep the one
that is an ELF core of this process: one of its PRSTATUS notes names the
process's pid.

Pure stdlib besides the SBProcess passed in; every read is bounded.
"""

import json
import os
import struct

ET_CORE = 4
PT_NOTE = 4
NT_PRSTATUS = 1
NOTES_MAX = 16 << 20
PRSTATUS_PID_OFFSET = 32  # struct elf_prstatus: siginfo(12) cursig(2+2) sigpend sighold


def _mapped_files():
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) == 6 and parts[5].startswith("/"):
                    yield parts[5].strip()
    except OSError:
        return


def _module_paths(process):
    try:
        stats = process.GetTarget().GetStatistics()
        for module in json.loads(stats.GetAsJSON()).get("modules", []):
            if module.get("path"):
                yield module["path"]
    except Exception:
        return


def _candidates(process):
    """Mapped files first (cheap); lldb's statistics only if need be."""
    seen = set()
    for source in (_mapped_files, lambda: _module_paths(process)):
        for path in source():
            if path not in seen:
                seen.add(path)
                yield path


def core_thread_ids(path):
    """Thread ids in an ELF core's PRSTATUS notes, or None if not a core."""
    try:
        with open(path, "rb") as f:
            ident = f.read(64)
            if len(ident) < 64 or ident[:4] != b"\x7fELF":
                return None
            is64, little = ident[4] == 2, ident[5] == 1
            e = "<" if little else ">"
            if is64:
                e_type, = struct.unpack_from(e + "H", ident, 16)
                phoff, = struct.unpack_from(e + "Q", ident, 32)
                phentsize, phnum = struct.unpack_from(e + "HH", ident, 54)
            else:
                e_type, = struct.unpack_from(e + "H", ident, 16)
                phoff, = struct.unpack_from(e + "I", ident, 28)
                phentsize, phnum = struct.unpack_from(e + "HH", ident, 42)
            if e_type != ET_CORE or phnum > 65535:
                return None
            f.seek(phoff)
            table = f.read(phentsize * phnum)
            tids = set()
            for i in range(phnum):
                ph = table[i * phentsize:(i + 1) * phentsize]
                if is64:
                    p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(e + "IIQQQQ", ph)
                else:
                    p_type, p_offset, _, _, p_filesz = struct.unpack_from(e + "IIIII", ph)
                if p_type != PT_NOTE:
                    continue
                f.seek(p_offset)
                tids.update(_prstatus_pids(f.read(min(p_filesz, NOTES_MAX)), e))
            return tids
    except (OSError, struct.error):
        return None


def _prstatus_pids(notes, e):
    pos = 0
    while pos + 12 <= len(notes):
        namesz, descsz, ntype = struct.unpack_from(e + "III", notes, pos)
        pos += 12 + ((namesz + 3) & ~3)
        if ntype == NT_PRSTATUS and descsz >= PRSTATUS_PID_OFFSET + 4:
            yield struct.unpack_from(e + "i", notes, pos + PRSTATUS_PID_OFFSET)[0]
        pos += (descsz + 3) & ~3


def core_path(process):
    """Path of the core file process was loaded from, or None. Matched by
    pid (the kernel names every thread in a PRSTATUS note, the main thread's
    id being the pid); asking lldb for the threads here would recurse into
    the OS plugin."""
    pid = process.GetProcessID()
    for path in _candidates(process):
        tids = core_thread_ids(path)
        if tids and pid in tids:
            return path
    return None


def core_mtime_ns(process):
    path = core_path(process)
    if path is None:
        return None, None
    return path, os.stat(path).st_mtime_ns
