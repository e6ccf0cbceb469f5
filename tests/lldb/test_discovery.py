"""Where the module finds the engine: beside itself once installed (the
layout `cmake --install` makes, with the tangle_lldb_paths.py the build
generated), in a source tree's build folders (skipping sanitizer builds),
at $TANGLE_INSPECT_LIB, through a build tree's loader; and one line when
there is none."""

import glob
import os
import shutil
import time

from lldbtest import Env, section

env = Env()
src_lldb = os.path.dirname(env.module)
modules = glob.glob(os.path.join(src_lldb, "*.py"))
build = env.build
SHOW = "script import tangle_lldb_engine as e; print('engine:', e.library().path)"


def engine_line(out):
    return section(out, SHOW).strip()


def copy_modules(dst):
    os.makedirs(dst, exist_ok=True)
    for m in modules:
        shutil.copy(m, dst)


def fake_build(root, name, sanitize, age):
    lib = os.path.join(root, name, "inspect", "libtangle-inspect.so")
    os.makedirs(os.path.dirname(lib))
    shutil.copy(env.engine, lib)
    with open(os.path.join(root, name, "CMakeCache.txt"), "w") as f:
        f.write("TANGLE_SANITIZE:STRING=%s\n" % sanitize)
    t = time.time() - age
    os.utime(lib, (t, t))
    return lib


# Installed: <prefix>/share/tangle/lldb/*.py and <prefix>/lib/libtangle-inspect.so.0
paths = os.path.join(build, "lldb", "tangle_lldb_paths.py")
prefix = os.path.join(env.work, "prefix")
lldb_dir = os.path.join(prefix, "share", "tangle", "lldb")
copy_modules(lldb_dir)
shutil.copy(paths, lldb_dir)
with open(paths) as f:
    rel = f.read().split('"')[1]
lib = os.path.normpath(os.path.join(lldb_dir, rel))
os.makedirs(os.path.dirname(lib), exist_ok=True)
shutil.copy(env.engine, lib)
out = env.lldb(["command script import " + os.path.join(lldb_dir, "tangle_lldb.py"), SHOW], load=False,
               env={"TANGLE_INSPECT_LIB": ""}, name="installed")
env.check(engine_line(out) == "engine: " + lib, "installed: the engine beside the modules",
          out)

# A source tree after a build: the newest plain build folder wins; a newer
# sanitizer build is skipped (lldb could not load it).
tree = os.path.join(env.work, "src")
copy_modules(os.path.join(tree, "lldb"))
old = fake_build(tree, "build", "", 100)
fake_build(tree, "build-asan", "address,undefined", 0)
out = env.lldb(["command script import " + os.path.join(tree, "lldb", "tangle_lldb.py"), SHOW], load=False,
               env={"TANGLE_INSPECT_LIB": ""}, name="source-tree")
env.check(engine_line(out) == "engine: " + old, "source tree: the plain build's engine", out)

# $TANGLE_INSPECT_LIB wins over both.
out = env.lldb(["command script import " + os.path.join(tree, "lldb", "tangle_lldb.py"), SHOW], load=False,
               env={"TANGLE_INSPECT_LIB": env.engine}, name="env")
env.check(engine_line(out) == "engine: " + env.engine, "env: TANGLE_INSPECT_LIB wins", out)

# Nothing anywhere: one line at import, and again from a command.
bare = os.path.join(env.work, "bare", "lldb")
copy_modules(bare)
out = env.lldb(["command script import " + os.path.join(bare, "tangle_lldb.py"), "tangle tasks"], load=False,
               env={"TANGLE_INSPECT_LIB": ""}, name="none")
env.expect(out, r"^tangle: libtangle-inspect\.so not found \(looked beside .*bare/lldb, in the "
           r"build folders of .*bare; set TANGLE_INSPECT_LIB to its path\)$",
           "none: one line at import")

# A build tree's loader: that build's engine, whatever the environment says.
loader = os.path.join(build, "lldb", "tangle_lldb_build.py")
out = env.lldb(["command script import " + loader, SHOW], load=False,
               env={"TANGLE_INSPECT_LIB": "/nonexistent"}, name="loader")
env.expect(engine_line(out), r"^engine: %s/lldb/libtangle-inspect\.so|^engine: %s/inspect/"
           r"libtangle-inspect\.so" % (build, build), "loader: this build's engine")
core = env.core("lldb_app", ready="ready")
out = env.lldb(["command script import " + loader, "tangle tasks"], [env.program("lldb_app"),
               "-c", core], load=False, name="loader-commands")
env.expect(section(out, "tangle tasks"), r"^2\s+waiting .*sleeper$", "loader: the commands work")
env.finish()
