"""gdb script: keep gdb's `gcore` to the memory a program can use.

Sourced into a gdb attached to a live process, just before `gcore`. It
marks every anonymous mapping without any access (`---p`, no file) with
madvise(MADV_DONTDUMP), which gdb's gcore honours (the `dd` flag in
/proc/PID/smaps, `set dump-excluded-mappings off`, the default).

Why: gdb's gcore writes every anonymous mapping in full, readable or not,
while the kernel leaves out mappings that never held a page. An ASan
program reserves terabytes that way (the shadow gap, the allocator's
space): the kernel's core of an example is ~45 MB, gdb's grew past 79 GB.
A mapping with no access holds nothing the program (or tangle) can read;
the parts ASan hands out are mprotect'ed readable first, and keep being
dumped.

The madvise calls run in the current thread only (scheduler-locking on), so
the other threads stay where the hang left them. The process is killed
after the dump; nothing else of its state changes.
"""

import gdb

MADV_DONTDUMP = 16


def _mark():
    pid = gdb.selected_inferior().pid
    if pid <= 0:
        raise gdb.GdbError("gcore_dontdump: no live process")
    gdb.execute("set scheduler-locking on")
    marked = failed = 0
    size = 0
    with open("/proc/%d/maps" % pid) as f:
        ranges = []
        for line in f:
            parts = line.split(None, 5)
            path = parts[5].strip() if len(parts) > 5 else ""
            if parts[1] != "---p" or path:
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            ranges.append((lo, hi))
    why = ""
    for lo, hi in ranges:
        try:
            r = int(gdb.parse_and_eval("(int) madvise((void *) %#x, (unsigned long) %#x, %d)"
                                       % (lo, hi - lo, MADV_DONTDUMP)))
        except gdb.error as e:  # no madvise to call (a static program...)
            r, why = -1, " (%s)" % e
        if r == 0:
            marked += 1
            size += hi - lo
        else:
            failed += 1
    gdb.execute("set scheduler-locking replay")
    print("gcore_dontdump: %d inaccessible mappings (%d GiB) left out of the core%s"
          % (marked, size >> 30,
             ", %d could not be marked%s" % (failed, why) if failed else ""))


_mark()
