"""Run an example until it prints its line, then take a real core dump.

The example runs from a copy of its executable in its own work folder, so
the core and the executable that made it end up side by side. The dump is
the kernel's (SIGABRT with RLIMIT_CORE raised; core_pattern here is `core`
in the working directory) unless core_pattern pipes cores away, or
TANGLE_E2E_DUMP=gcore asks for it: then gdb's gcore takes it from the live
process, which is killed after.
"""

import glob
import os
import resource
import select
import shutil
import signal
import subprocess
import time

# ASan turns core dumps off by default; its shadow memory is excluded from
# them (madvise DONTDUMP) once they are on.
ASAN_OPTIONS = "disable_coredump=0:use_madv_dontdump=1:detect_leaks=0:handle_abort=0"


class DumpError(Exception):
    pass


class Dump:
    def __init__(self, workdir, exe, core, pid, seconds):
        self.workdir = workdir  # holds exe, core, stdout, stderr
        self.exe = exe
        self.core = core
        self.pid = pid
        self.seconds = seconds  # from start to the line


def core_pattern():
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            return f.read().strip()
    except OSError:
        return "core"


def dump_method():
    forced = os.environ.get("TANGLE_E2E_DUMP", "")
    if forced in ("kernel", "gcore"):
        return forced
    return "gcore" if core_pattern().startswith("|") else "kernel"


def _raise_core_limit():
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def _wait_line(proc, line, timeout, out_path):
    """Read stdout until `line`; return what was read. Raises on timeout."""
    buf = b""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DumpError("no line %r within %.0f s (stdout: %r)"
                            % (line, timeout, buf.decode(errors="replace")))
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            proc.wait()
            raise DumpError("exited with status %s before printing %r (stdout: %r)"
                            % (proc.returncode, line, buf.decode(errors="replace")))
        buf += chunk
        with open(out_path, "ab") as f:
            f.write(chunk)
        if (line + "\n").encode() in buf:
            return buf.decode(errors="replace")


def _find_kernel_core(workdir, pid, exe_name):
    """The core file the kernel wrote for pid, moved to workdir/core."""
    pattern = core_pattern()
    if "/" in pattern:
        where, name = os.path.split(pattern)
    else:
        where, name = workdir, pattern
    for spec, value in (("%p", str(pid)), ("%P", str(pid)), ("%e", exe_name[:15]),
                        ("%%", "%")):
        name = name.replace(spec, value)
    name = "".join("*" if c == "%" else c for c in name)  # other specifiers
    candidates = glob.glob(os.path.join(where, name))
    candidates += glob.glob(os.path.join(where, name + "." + str(pid)))
    for path in candidates:
        if os.path.isfile(path) and os.path.realpath(path) != os.path.realpath(
                os.path.join(workdir, exe_name)):
            target = os.path.join(workdir, "core")
            if os.path.realpath(path) != os.path.realpath(target):
                shutil.move(path, target)
            return target
    raise DumpError("the kernel wrote no core (core_pattern %r, RLIMIT_CORE %s)"
                    % (pattern, resource.getrlimit(resource.RLIMIT_CORE)))


def _is_core(path):
    with open(path, "rb") as f:
        head = f.read(18)
    return len(head) == 18 and head[:4] == b"\x7fELF" and head[16] == 4


def run_and_dump(exe, line, workdir, args=(), timeout=30.0, delay=0.0):
    """Start exe (copied into workdir), wait for `line` on its stdout, wait
    `delay` more seconds, dump. Returns a Dump; the process is gone."""
    name = os.path.basename(exe)
    os.makedirs(workdir, exist_ok=True)
    local = os.path.join(workdir, name)
    shutil.copy2(exe, local)
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ASAN_OPTIONS + (":" + env["ASAN_OPTIONS"]
                                          if env.get("ASAN_OPTIONS") else "")
    method = dump_method()
    start = time.monotonic()
    with open(os.path.join(workdir, "stderr"), "wb") as err:
        proc = subprocess.Popen([local] + list(args), cwd=workdir, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=err, preexec_fn=_raise_core_limit,
                                start_new_session=True)
    try:
        _wait_line(proc, line, timeout, os.path.join(workdir, "stdout"))
        seconds = time.monotonic() - start
        if delay > 0:
            time.sleep(delay)
        if method == "gcore":
            core = _gcore(proc, workdir)
        else:
            proc.send_signal(signal.SIGABRT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                raise DumpError("still alive 60 s after SIGABRT")
            if proc.returncode != -signal.SIGABRT:
                raise DumpError("ended with status %s, not by SIGABRT"
                                % proc.returncode)
            core = _find_kernel_core(workdir, proc.pid, name)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    if not _is_core(core):
        raise DumpError("%s is not an ELF core file" % core)
    return Dump(workdir, local, core, proc.pid, seconds)


def _gcore(proc, workdir):
    prefix = os.path.join(workdir, "core")
    r = subprocess.run(["gcore", "-o", prefix, str(proc.pid)], capture_output=True,
                       text=True, timeout=120)
    path = "%s.%d" % (prefix, proc.pid)
    proc.kill()
    proc.wait()
    if r.returncode != 0 or not os.path.exists(path):
        raise DumpError("gcore failed (%d): %s" % (r.returncode, r.stderr.strip()))
    os.rename(path, prefix)
    return prefix
