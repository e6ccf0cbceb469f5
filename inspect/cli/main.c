/*
 * main.c — the tangle command: parse the command line, open the target,
 * let the engine decode the table and run the command, and exit with its
 * status (0 no finding, 1 findings, 2 could not read). Every error is one
 * line on stderr, "tangle: ...". A stopped live process is always resumed
 * before exit (target.c, live.c).
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "tangle_debug.h"
#include "tangle_inspect.h"
#include "target.h"

#ifndef TANGLE_VERSION
#define TANGLE_VERSION "unknown"
#endif

static const char usage_head[] =
	"usage: tangle COMMAND [options] CORE [EXE]\n"
	"       tangle COMMAND [options] -p PID [--no-stop]\n"
	"       tangle help [COMMAND]\n"
	"\n"
	"Explain the hangs of a program built on libtangle: its tasks, what each\n"
	"waits for and holds, wait chains, deadlocks and other hang patterns,\n"
	"from a core dump or a live process.\n"
	"\n"
	"Target:\n"
	"  CORE [EXE]         a core dump and its program (EXE defaults to the\n"
	"                     program the core names; it must be the same build)\n"
	"  --core FILE, --exe FILE   the same, named explicitly\n"
	"  -p, --pid PID      a live process: every thread is stopped while it is\n"
	"                     read, then resumed\n"
	"  --no-stop          read the live process without stopping it (the view\n"
	"                     may be torn)\n"
	"  -h, --help         this text (COMMAND --help: the command's options)\n"
	"  -V, --version      the version\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"Exit status:\n"
	"  0  no finding\n"
	"  1  findings (a deadlock, a blocked executor, ...)\n"
	"  2  the target could not be read, or bad usage (the reason is on stderr)\n"
	"\n"
	"Examples:\n"
	"  tangle triage core                 the full report of a core dump\n"
	"  tangle triage core ./server        ... with its executable given\n"
	"  tangle tasks --group core          tasks by wait site, with counts\n"
	"  tangle bt core 12                  task 12's async backtrace\n"
	"  tangle triage -p 1234 --json       a live process, as JSON\n";

static const char commands_text[] =
	"Commands (tangle help COMMAND for a command's options):\n"
	"  triage             findings with their wait chains, then the async\n"
	"                     backtraces of the tasks involved (the full report)\n"
	"  tasks              the task table (--group: by wait site, with counts)\n"
	"  bt [ID...|all]     async backtraces of tasks\n"
	"  locks              mutexes, rwlocks, semaphores, channels, notifies\n"
	"  why ID             one task's wait chain\n"
	"  deadlocks          only the deadlocks\n"
	"  graph              the wait-for graph as Graphviz DOT\n"
	"Every command takes --json (graph: DOT only).\n";

static int help(const char *command)
{
	if (command) {
		/* The engine's "usage: CMD ARGS" line, with the target added. */
		const char *u = tangle_inspect_usage(command);
		const char *nl = strchr(u, '\n');
		if (strncmp(u, "usage: ", 7) == 0 && nl) {
			printf("usage: tangle %.*s CORE [EXE]\n", (int)(nl - u - 7), u + 7);
			printf("       tangle %.*s -p PID [--no-stop]\n",
			       (int)(nl - u - 7), u + 7);
			u = nl + 1;
		}
		fputs(u, stdout);
		return 0;
	}
	fputs(usage_head, stdout);
	fputs(commands_text, stdout);
	fputs(usage_tail, stdout);
	return 0;
}

static int fail(tangle_error *err)
{
	fprintf(stderr, "tangle: %s\n",
	        err && err->message ? err->message : "the command failed");
	if (err)
		tangle_error_free(err);
	return 2;
}

int main(int argc, char **argv)
{
	struct cli_args args;
	tangle_error *err = cli_args_parse(argc, argv, &args);
	if (err) {
		cli_args_free(&args);
		return fail(err);
	}
	if (args.action == CLI_HELP) {
		int status = help(args.command);
		cli_args_free(&args);
		return status;
	}
	if (args.action == CLI_VERSION) {
		printf("tangle %s (debug table ABI %d.%d)\n", TANGLE_VERSION,
		       TANGLE_DEBUG_ABI_MAJOR, TANGLE_DEBUG_ABI_MINOR);
		cli_args_free(&args);
		return 0;
	}

	struct cli_target target;
	if ((err = cli_target_open(&args, &target))) {
		cli_args_free(&args);
		return fail(err);
	}
	tangle_session *session = NULL;
	int status = 2;
	err = tangle_session_open(&target.reader, &target.unwinder,
	                          &target.options, &session);
	if (!err) {
		status = tangle_session_command(session, args.argc, args.argv,
		                                stdout, &err);
		fflush(stdout);
		tangle_session_free(session);
	}
	cli_target_close(&target);
	cli_args_free(&args);
	if (err || status == 2)
		return fail(err);
	return status;
}
