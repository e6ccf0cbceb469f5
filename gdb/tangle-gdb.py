# tangle-gdb.py — load tangle's gdb commands into gdb:
#     (gdb) source /path/to/tangle/gdb/tangle-gdb.py
# The package beside this file does the work (docs/gdb.md); it looks for
# libtangle-inspect at $TANGLE_INSPECT_LIB, beside itself once installed,
# or in this checkout's build trees.
import os
import sys

_tangle_dir = os.path.dirname(os.path.abspath(__file__))
if _tangle_dir not in sys.path:
    sys.path.insert(0, _tangle_dir)

import tangle_gdb  # noqa: E402

tangle_gdb.setup()
