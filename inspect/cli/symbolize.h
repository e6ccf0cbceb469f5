/*
 * symbolize.h — turn a code address into frames: function, file, line,
 * with inlined calls expanded (DWARF scopes), innermost first.
 */
#ifndef TANGLE_CLI_SYMBOLIZE_H
#define TANGLE_CLI_SYMBOLIZE_H

#include <elfutils/libdwfl.h>

#include "tangle_inspect.h"

/* Fill up to max frames for pc and return how many (at least 1 when max
 * > 0, even if nothing is known of pc). return_address: pc is where a call
 * returns to (every frame but an interrupted one), so pc - 1 is looked up.
 * Functions inlined at pc come first, marked inlined; the last frame is
 * the function that contains them, at the inlined call's line. */
int cli_symbolize(Dwfl *dwfl, uint64_t pc, int return_address,
                  tangle_frame *out, int max);

/* The same through a cache of addresses already symbolized (*cache starts
 * NULL; a backtrace of every task hits the same few hundred addresses).
 * Valid for one set of modules. */
struct cli_symcache;
int cli_symbolize_cached(struct cli_symcache **cache, Dwfl *dwfl, uint64_t pc,
                         int return_address, tangle_frame *out, int max);
void cli_symcache_free(struct cli_symcache *cache);

#endif
