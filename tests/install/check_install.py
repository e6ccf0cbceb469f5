#!/usr/bin/env python3
"""Install libtangle into a scratch prefix and build a program against it
twice: with pkg-config and with CMake's find_package. The prefix given at
install time differs from the one configured, as a packager's would.

usage: check_install.py BUILD_DIR SCRATCH_DIR"""

import os
import shutil
import subprocess
import sys

PROGRAM = r"""
#include <stdio.h>
#include <tangle.h>

static void *body(void *arg)
{
	tangle_mutex m;
	tangle_mutex_init(&m, "installed");
	tangle_mutex_lock(&m);
	tangle_mutex_unlock(&m);
	*(int *)arg = 42;
	return NULL;
}

int main(void)
{
	int out = 0;
	tangle_runtime *rt = tangle_runtime_new(NULL);
	if (!rt)
		return 1;
	tangle_runtime_run(rt, body, &out);
	tangle_runtime_free(rt);
	printf("installed runtime ran: %d\n", out);
	return out == 42 ? 0 : 1;
}
"""

CMAKELISTS = """cmake_minimum_required(VERSION 3.16)
project(uses_tangle C)
find_package(tangle REQUIRED)
add_executable(uses_tangle main.c)
target_link_libraries(uses_tangle PRIVATE tangle::tangle)
"""


def run(cmd, env=None, cwd=None):
    r = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        sys.exit("FAIL: %s\n%s" % (" ".join(cmd), r.stdout))
    return r.stdout


def main():
    build, scratch = sys.argv[1], sys.argv[2]
    shutil.rmtree(scratch, ignore_errors=True)
    prefix = os.path.join(scratch, "prefix")
    os.makedirs(scratch)
    run(["cmake", "--install", os.path.join(build, "runtime"), "--prefix", prefix])
    pcs = [os.path.join(r, f) for r, _, fs in os.walk(prefix) for f in fs
           if f == "tangle.pc"]
    if len(pcs) != 1:
        sys.exit("FAIL: expected one tangle.pc under %s, found %s" % (prefix, pcs))
    libdir = os.path.dirname(os.path.dirname(pcs[0]))
    src = os.path.join(scratch, "main.c")
    with open(src, "w") as f:
        f.write(PROGRAM)
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]),
               LD_LIBRARY_PATH=libdir,
               # The library may carry a sanitizer runtime; the program not.
               ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=0")

    flags = run(["pkg-config", "--cflags", "--libs", "tangle"], env).split()
    if not any(f.startswith("-I") and os.path.realpath(f[2:]) ==
               os.path.realpath(os.path.join(prefix, "include")) for f in flags):
        sys.exit("FAIL: pkg-config does not point into the prefix: %s" % flags)
    exe = os.path.join(scratch, "uses_tangle_pc")
    run([os.environ.get("CC", "cc"), "-std=c11", "-Wall", "-Werror", src,
         "-o", exe] + flags, env)
    out = run([exe], env)
    if "installed runtime ran: 42" not in out:
        sys.exit("FAIL: pkg-config program printed %r" % out)

    proj = os.path.join(scratch, "proj")
    os.makedirs(proj)
    shutil.copy(src, proj)
    with open(os.path.join(proj, "CMakeLists.txt"), "w") as f:
        f.write(CMAKELISTS)
    pbuild = os.path.join(scratch, "proj-build")
    run(["cmake", "-S", proj, "-B", pbuild, "-DCMAKE_PREFIX_PATH=" + prefix], env)
    run(["cmake", "--build", pbuild], env)
    out = run([os.path.join(pbuild, "uses_tangle")], env)
    if "installed runtime ran: 42" not in out:
        sys.exit("FAIL: find_package program printed %r" % out)
    print("ok: pkg-config and find_package(tangle) build and run against %s"
          % prefix)


if __name__ == "__main__":
    main()
