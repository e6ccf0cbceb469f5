/*
 * gdb_scripts.c — the .debug_gdb_scripts entry that makes gdb load tangle's
 * commands for any program using libtangle (docs/gdb.md, "Auto-loading").
 *
 * One inline Python entry (kind 4, gdb.inlined-script): unless tangle_gdb is
 * loaded already (the $datadir/gdb/auto-load/...-gdb.py script runs first),
 * it looks, from the directory of the library (or program) it sits in and
 * up to three levels above, for share/tangle/gdb/tangle-gdb.py (an install)
 * or gdb/tangle-gdb.py beside a CMakeCache.txt (a build tree), and runs it.
 * gdb runs it only when the library is in its auto-load safe-path.
 *
 * Nothing else lives here. Linked statically, the section comes along only
 * if something references tangle__gdb_scripts_anchor.
 */
#include "internal.h"

TANGLE_HIDDEN const char tangle__gdb_scripts_anchor = 0;

__asm__(
	".pushsection \".debug_gdb_scripts\", \"MS\",@progbits,1\n"
	".byte 4\n"
	".ascii \"gdb.inlined-script.tangle\\n\"\n"
	".ascii \"import os, sys\\n\"\n"
	".ascii \"def _tangle_gdb_autoload(gdb=__import__('gdb')):\\n\"\n"
	".ascii \"    if 'tangle_gdb' in sys.modules: return\\n\"\n"
	".ascii \"    obj = gdb.current_objfile()\\n\"\n"
	".ascii \"    if obj is None or not obj.filename: return\\n\"\n"
	".ascii \"    lib = os.path.realpath(obj.filename)\\n\"\n"
	".ascii \"    d = os.path.dirname(lib)\\n\"\n"
	".ascii \"    for _ in range(4):\\n\"\n"
	".ascii \"        for sub, need in (('share/tangle/gdb', None),\\n\"\n"
	".ascii \"                          ('gdb', 'CMakeCache.txt')):\\n\"\n"
	".ascii \"            p = os.path.join(d, sub, 'tangle-gdb.py')\\n\"\n"
	".ascii \"            if os.path.isfile(p) and (need is None or\\n\"\n"
	".ascii \"                    os.path.isfile(os.path.join(d, need))):\\n\"\n"
	".ascii \"                with open(p) as f: code = f.read()\\n\"\n"
	".ascii \"                exec(compile(code, p, 'exec'),\\n\"\n"
	".ascii \"                     {'__file__': p, '__name__': '_tangle_gdb'})\\n\"\n"
	".ascii \"                return\\n\"\n"
	".ascii \"        d = os.path.dirname(d)\\n\"\n"
	".ascii \"    gdb.write('tangle: gdb commands not found near %s; source \"\n"
	".ascii \"tangle-gdb.py (docs/gdb.md)\\\\n' % lib, gdb.STDERR)\\n\"\n"
	".ascii \"_tangle_gdb_autoload()\\n\"\n"
	".ascii \"del _tangle_gdb_autoload\\n\"\n"
	".byte 0\n"
	".popsection\n");
