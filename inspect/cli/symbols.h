/*
 * symbols.h — the target's modules through elfutils libdwfl: build a Dwfl
 * for a core or a live process, and find a global symbol in it.
 *
 * The debug root is found by its symbol in any module (the executable for
 * a static link, libtangle.so for a shared one) and, when every symbol
 * table has been stripped, by its ELF section TANGLE_DEBUG_SECTION mapped
 * to the module's load address. A candidate is taken only if the target's
 * memory there starts with the table's magic, so a stray symbol of the
 * same name cannot win.
 */
#ifndef TANGLE_CLI_SYMBOLS_H
#define TANGLE_CLI_SYMBOLS_H

#include <elfutils/libdwfl.h>
#include <sys/types.h>

#include "core.h"
#include "tangle_inspect.h"

/* A Dwfl with the modules of a core: every ELF file its NT_FILE note maps
 * (the executable as cli_core_exe names it), placed where the mapping of
 * its first page was. Without NT_FILE, libdwfl's own search of the core's
 * segments (slow on cores with many segments: one per task stack). */
tangle_error *cli_dwfl_core(const struct cli_core *core, Dwfl **out);
/* A Dwfl with the modules of a live process (from /proc/PID/maps). */
tangle_error *cli_dwfl_live(pid_t pid, Dwfl **out);

/* Address of a defined global symbol in any module: 0, or -1 if none.
 * For TANGLE_DEBUG_SYMBOL, falls back to TANGLE_DEBUG_SECTION and checks
 * the magic through mem. */
int cli_symbol_lookup(Dwfl *dwfl, const tangle_reader *mem, const char *symbol,
                      uint64_t *addr);

#endif
