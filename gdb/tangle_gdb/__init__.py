"""tangle for gdb: commands, pretty-printers, convenience functions and a
task unwinder over libtangle-inspect (see docs/gdb.md).

setup() is idempotent: the auto-load script, the .debug_gdb_scripts entry
and a manual `source` may all run it.
"""

import os

import gdb

from . import commands, frames, printers, session

_done = False


def _on_cont(_event):
    frames.clear()   # a resumed task's saved context is stale


def setup(libs=(), quiet=False):
    """Load the engine and register everything (once). libs: where the
    loader knows the engine to be, tried after $TANGLE_INSPECT_LIB. Prints
    one line if the engine cannot be found; the commands then say the
    same."""
    global _done
    if _done:
        return
    _done = True
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    err = session.load_engine(pkg_parent, libs)
    if err and not quiet:
        gdb.write(err + "\n", gdb.STDERR)
    frames.install()
    commands.install()
    printers.install()
    session.connect_events()
    gdb.events.cont.connect(_on_cont)
    gdb.events.exited.connect(_on_cont)
