"""Where the module finds the engine: beside itself once installed (the
layout `cmake --install` makes, with the tangle_lldb_paths.py the build
generated), in a source tree's build folders (a sanitizer build's plain
copy for lldb, never its sanitized engine), at $TANGLE_INSPECT_LIB, through
a build tree's loader; and one line when there is none, or when the library
named is a sanitizer build's."""

import glob
import os
import re
import shutil
import sys
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

# A source tree whose only build is a sanitizer build: its inspect/ engine
# needs libasan, so the plain copy it makes for lldb (build-x/lldb/) is the
# one; with or without a CMakeCache.txt saying so (the ELF's DT_NEEDED does).
probe = env.programs.get("asan_probe")
if env.check(probe is not None, "the ASan probe library is built (asan_probe=)"):
    for name, cache in (("cache", True), ("elf", False)):
        only = os.path.join(env.work, "asan-only-" + name)
        copy_modules(os.path.join(only, "lldb"))
        os.makedirs(os.path.join(only, "build-x", "inspect"))
        os.makedirs(os.path.join(only, "build-x", "lldb"))
        shutil.copy(probe, os.path.join(only, "build-x", "inspect", "libtangle-inspect.so"))
        plain = os.path.join(only, "build-x", "lldb", "libtangle-inspect.so")
        shutil.copy(env.engine, plain)
        if cache:
            with open(os.path.join(only, "build-x", "CMakeCache.txt"), "w") as f:
                f.write("TANGLE_SANITIZE:STRING=address,undefined\n")
        out = env.lldb(["command script import " + os.path.join(only, "lldb", "tangle_lldb.py"),
                        SHOW], load=False, env={"TANGLE_INSPECT_LIB": ""},
                       name="asan-only-" + name)
        env.check(engine_line(out) == "engine: " + plain,
                  "sanitizer build only (%s): its plain copy in build-x/lldb" % name, out)

    # $TANGLE_INSPECT_LIB naming a sanitizer build's engine: one line, and
    # lldb lives on (loading it would abort lldb: "ASan runtime does not
    # come first"). A sanitizer build's own engine is checked too.
    sys.path.insert(0, src_lldb)
    import tangle_lldb_engine  # noqa: E402 (no lldb needed)
    asan_engines = [probe]
    built = os.path.join(build, "inspect", "libtangle-inspect.so")
    if any(n.startswith("libasan.") for n in tangle_lldb_engine.needed(built)):
        asan_engines.append(built)  # this is a sanitizer build: its own engine too
    for i, lib in enumerate(asan_engines):
        out = env.lldb(["tangle tasks --help", "script print('lldb lives on')"], load=True,
                       env={"TANGLE_INSPECT_LIB": lib}, name="env-asan-%d" % i)
        line = (r"TANGLE_INSPECT_LIB=%s needs lib(asan|ubsan)\.so\.\d+ \(a sanitizer build\), "
                r"which lldb cannot load: use " % re.escape(lib))
        env.expect(out, r"^tangle: " + line, "env %s: one line at import" % lib)
        env.expect(section(out, "tangle tasks --help"), r"^error: tangle: " + line,
                   "env %s: the command says why" % lib)
        env.expect(out, r"^lldb lives on$", "env %s: lldb was not aborted" % lib)
        env.expect_not(out, r"ASan runtime does not come first", "env %s: not loaded" % lib)

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
