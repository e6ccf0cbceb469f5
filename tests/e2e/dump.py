"""Run an example until it prints its line, then take a real core dump.

The example runs from a copy of its executable in its own work folder, so
the core and the executable that made it end up side by side. The dump is
the kernel's (SIGABRT with RLIMIT_CORE raised; core_pattern here is `core`
in the working directory) unless the kernel cannot write one here (cores
piped away by systemd-coredump or apport, RLIMIT_CORE's hard limit 0, a
core_pattern folder we cannot write) or TANGLE_E2E_DUMP=gcore asks for it:
then gdb's gcore takes it from the live process, which is killed after. A
kernel dump that leaves no core file is retried once with gcore.

gcore is capped: gdb runs with RLIMIT_FSIZE at TANGLE_E2E_CORE_CAP_MB
(default 1024) and a core that reaches the cap is an error, deleted. The
inaccessible mappings of ASan builds (terabytes) are kept out of it by
gcore_dontdump.py.
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


class NoKernelCore(DumpError):
    pass


class Dump:
    def __init__(self, workdir, exe, core, pid, seconds, method="kernel", note=""):
        self.workdir = workdir  # holds exe, core, stdout, stderr
        self.exe = exe
        self.core = core
        self.pid = pid
        self.seconds = seconds  # from start to the line
        self.method = method    # "kernel" or "gcore"
        self.note = note        # why gcore, when it was not asked for

    def describe(self):
        s = "%s core, %.1f MiB" % (self.method, os.path.getsize(self.core) / 1048576.0)
        return s + (" (%s)" % self.note if self.note else "")


def core_pattern():
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            return f.read().strip()
    except OSError:
        return "core"


GCORE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "gcore_dontdump.py")
GCORE_TIMEOUT = 120.0


def core_cap_bytes():
    """The most a gcore may write (TANGLE_E2E_CORE_CAP_MB, default 1024)."""
    try:
        mb = int(os.environ.get("TANGLE_E2E_CORE_CAP_MB", "1024"))
    except ValueError:
        mb = 1024
    return max(mb, 1) << 20


def kernel_cannot_dump(pattern=None, workdir="."):
    """Why the kernel would write no core file for us here, or None."""
    pattern = core_pattern() if pattern is None else pattern
    if pattern.startswith("|"):
        return "core_pattern pipes cores away (%s)" % pattern
    if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
        return "RLIMIT_CORE's hard limit is 0"
    where = os.path.dirname(pattern) if "/" in pattern else workdir
    if where and not os.access(where, os.W_OK | os.X_OK):
        return "core_pattern's folder %s is not writable" % where
    return None


def dump_method(workdir="."):
    forced = os.environ.get("TANGLE_E2E_DUMP", "")
    if forced in ("kernel", "gcore"):
        return forced
    return "gcore" if kernel_cannot_dump(workdir=workdir) else "kernel"


def _raise_core_limit():
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def _wait_line(proc, line, timeout, out_path):
    """Read stdout until its first line, which must be `line` and all of
    it; return it. Raises on timeout, on other output, and on exit."""
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
        if b"\n" in buf:
            if buf != (line + "\n").encode():
                raise DumpError("stdout must be exactly the line %r, got %r"
                                % (line, buf.decode(errors="replace")))
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
    raise NoKernelCore("the kernel wrote no core (core_pattern %r, RLIMIT_CORE %s)"
                       % (pattern, resource.getrlimit(resource.RLIMIT_CORE)))


def _is_core(path):
    with open(path, "rb") as f:
        head = f.read(18)
    return len(head) == 18 and head[:4] == b"\x7fELF" and head[16] == 4


def run_and_dump(exe, line, workdir, args=(), timeout=30.0, delay=0.0, method=None):
    """Start exe (copied into workdir), wait for `line` on its stdout, wait
    `delay` more seconds, dump. Returns a Dump; the process is gone."""
    os.makedirs(workdir, exist_ok=True)
    note = ""
    chosen = method or os.environ.get("TANGLE_E2E_DUMP") in ("kernel", "gcore")
    if method is None:
        method = dump_method(workdir)
        if method == "gcore" and not chosen:
            note = kernel_cannot_dump(workdir=workdir) or ""
    try:
        d = _run_and_dump(exe, line, workdir, args, timeout, delay, method)
    except NoKernelCore as e:
        if chosen:  # the kernel's core was asked for: no fallback
            raise
        note = "%s; run again with gcore" % e
        d = _run_and_dump(exe, line, workdir, args, timeout, delay, "gcore")
    d.note = note
    return d


def _run_and_dump(exe, line, workdir, args, timeout, delay, method):
    name = os.path.basename(exe)
    local = os.path.join(workdir, name)
    shutil.copy2(exe, local)
    for f in ("stdout", "stderr", "core"):
        if os.path.exists(os.path.join(workdir, f)):
            os.unlink(os.path.join(workdir, f))
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ASAN_OPTIONS + (":" + env["ASAN_OPTIONS"]
                                          if env.get("ASAN_OPTIONS") else "")
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
    return Dump(workdir, local, core, proc.pid, seconds, method)


def _limit_file_size(cap):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
    return limit


def gcore_pid(pid, path, cap=None, timeout=None):
    """gdb's gcore of the live process pid into path, at most cap bytes
    (the inaccessible mappings left out, gcore_dontdump.py). Raises
    DumpError, and deletes what it wrote, on a failure, a timeout or a core
    that reached the cap."""
    cap = core_cap_bytes() if cap is None else cap
    timeout = GCORE_TIMEOUT if timeout is None else timeout
    argv = ["gdb", "-batch", "-nx", "-q", "-iex", "set auto-load off",
            "-p", str(pid), "-ex", "source " + GCORE_SCRIPT,
            "-ex", "gcore " + path, "-ex", "detach"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, preexec_fn=_limit_file_size(cap))
    except subprocess.TimeoutExpired:
        _remove(path)
        raise DumpError("gcore: no core within %.0f s (gdb killed)" % timeout)
    except OSError as e:
        raise DumpError("gcore: cannot run gdb: %s" % e)
    out = r.stdout + r.stderr
    size = os.path.getsize(path) if os.path.exists(path) else 0
    if size >= cap or "File too large" in out or "Failed to write corefile" in out:
        _remove(path)
        raise DumpError("gcore: the core reached the cap of %.1f MiB and was deleted "
                        "(raise TANGLE_E2E_CORE_CAP_MB if that is expected); gdb said: %s"
                        % (cap / 1048576.0, _tail(out)))
    if r.returncode != 0 or not size:
        _remove(path)
        raise DumpError("gcore failed (gdb exited %d): %s" % (r.returncode, _tail(out)))
    return path


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _tail(text):
    lines = [l for l in text.strip().splitlines() if not l.startswith("[New LWP")]
    return "\n".join(lines[-8:])


def _gcore(proc, workdir):
    path = os.path.join(workdir, "core")
    try:
        return gcore_pid(proc.pid, path)
    finally:
        proc.kill()
        proc.wait()
