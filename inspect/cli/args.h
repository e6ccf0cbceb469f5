/*
 * args.h — the tangle command line: which command, which target (a core
 * file and its executable, or a live pid) and what to pass to the engine.
 *
 *   tangle COMMAND [options] CORE [EXE] [args]
 *   tangle COMMAND [options] -p PID [--no-stop] [args]
 *
 * The CLI owns only the target options (-p/--pid, --no-stop, --core,
 * --exe) and --help/--version; everything else (--json, filters, task ids)
 * is the command's own and goes to the engine unchanged and in order.
 * Positional arguments are sorted by what they name: an ELF core file is
 * the CORE, an ELF executable or shared object is the EXE, anything else
 * belongs to the command. So `tangle bt core prog 12` and
 * `tangle bt 12 core prog` mean the same.
 */
#ifndef TANGLE_CLI_ARGS_H
#define TANGLE_CLI_ARGS_H

#include "tangle_inspect.h"

enum cli_action {
	CLI_RUN = 0,     /* open the target and run the command */
	CLI_HELP = 1,    /* print usage (of `command` if set) and exit 0 */
	CLI_VERSION = 2, /* print the version and exit 0 */
};

struct cli_args {
	int action;          /* enum cli_action */
	const char *command; /* triage, tasks, ...; NULL with CLI_HELP: all */
	const char *core;    /* core file, or NULL */
	const char *exe;     /* executable, or NULL: found from the core */
	int pid;             /* live process, or 0 */
	int no_stop;         /* live: read without stopping (torn view) */
	int argc;            /* the engine's argv: argv[0] is the command */
	char **argv;         /* malloc'd array of pointers into the caller's argv */
};

/* Parse argv (argv[0] is the program). On error returns a tangle_error of
 * code TANGLE_INSPECT_EUSAGE with a one-line message. Free with
 * cli_args_free() in both cases. */
tangle_error *cli_args_parse(int argc, char **argv, struct cli_args *out);
void cli_args_free(struct cli_args *args);

/* 1 if name is a command the CLI knows. */
int cli_is_command(const char *name);

#endif
