/*
 * target.h — what the CLI hands the engine for one target: a reader
 * (memory and symbols), an unwinder, and the session options ("now", torn,
 * the root's address, a name for headings).
 *
 * A core: memory from cli_core, modules from its notes, "now" the core
 * file's mtime (TANGLE_NOW_REAL). A live pid: stopped unless --no-stop,
 * memory by process_vm_readv, modules from /proc/PID/maps, "now" its
 * CLOCK_MONOTONIC (TANGLE_NOW_MONO). The root is found here, so a program
 * without libtangle gets a message that says so.
 */
#ifndef TANGLE_CLI_TARGET_H
#define TANGLE_CLI_TARGET_H

#include <elfutils/libdwfl.h>

#include "args.h"
#include "core.h"
#include "live.h"
#include "tangle_inspect.h"
#include "unwind.h"

struct cli_target {
	tangle_reader reader;   /* ctx is the cli_target */
	tangle_unwinder unwinder;
	tangle_session_options options;
	struct cli_unwind unwind;
	Dwfl *dwfl;             /* the modules: symbols and the real threads */
	struct cli_core *core;
	struct cli_live *live;
	pid_t pid;
	char name[512];         /* options.target */
};

/* Open the target args names (a core, or a pid). On error t is closed. */
tangle_error *cli_target_open(const struct cli_args *args, struct cli_target *t);
/* Release everything; a stopped process is resumed. Safe to call twice. */
void cli_target_close(struct cli_target *t);

#endif
