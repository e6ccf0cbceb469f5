/*
 * args.c — parse the tangle command line (see args.h for the grammar).
 *
 * Invariant: every argument lands in exactly one place: a target field, a
 * CLI flag, or the engine's argv (in its original order). Nothing here
 * opens more than the first bytes of a file (to tell a core from an
 * executable).
 */
#include "args.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const commands[] = {
	"triage", "tasks", "bt", "locks", "why", "deadlocks", "graph", NULL,
};

int cli_is_command(const char *name)
{
	for (int i = 0; commands[i]; i++)
		if (strcmp(commands[i], name) == 0)
			return 1;
	return 0;
}

enum file_kind { FILE_NONE, FILE_OTHER, FILE_CORE, FILE_EXE };

/* What a path names: nothing, a core file, an executable or shared object,
 * or some other existing file. */
static enum file_kind probe(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return FILE_NONE;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return FILE_OTHER;
	unsigned char h[EI_NIDENT + 2];
	ssize_t n = pread(fd, h, sizeof h, 0);
	close(fd);
	if (n != (ssize_t)sizeof h || memcmp(h, ELFMAG, SELFMAG) != 0)
		return FILE_OTHER;
	unsigned type = h[EI_DATA] == ELFDATA2MSB
		? (unsigned)h[EI_NIDENT] << 8 | h[EI_NIDENT + 1]
		: (unsigned)h[EI_NIDENT + 1] << 8 | h[EI_NIDENT];
	if (type == ET_CORE)
		return FILE_CORE;
	if (type == ET_EXEC || type == ET_DYN)
		return FILE_EXE;
	return FILE_OTHER;
}

static int parse_pid(const char *s, int *pid)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 0x3fffffff)
		return -1;
	*pid = (int)v;
	return 0;
}

/* The value of an option given as `--opt VALUE`, `--opt=VALUE` or (short
 * options) `-pVALUE`; NULL if arg is not that option. Advances *i past a
 * separate value. */
static const char *option_value(int argc, char **argv, int *i,
                                const char *lng, const char *shrt, int *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(lng);
	*missing = 0;
	if (strncmp(a, lng, n) == 0 && a[n] == '=')
		return a + n + 1;
	if (strcmp(a, lng) == 0 || (shrt && strcmp(a, shrt) == 0)) {
		if (*i + 1 >= argc) {
			*missing = 1;
			return NULL;
		}
		return argv[++*i];
	}
	if (shrt && strncmp(a, shrt, 2) == 0 && a[2])
		return a + 2;
	return NULL;
}

static tangle_error *usage_error(const char *fmt, const char *what)
{
	return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0, fmt, what);
}

/* Handle one CLI-owned option at argv[*i]; 1 if it was one, 0 if not, -1
 * with *err on a bad value. */
static int cli_option(int argc, char **argv, int *i, struct cli_args *out,
                      tangle_error **err)
{
	const char *a = argv[*i];
	const char *v;
	int missing;

	if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
		out->action = CLI_HELP;
		return 1;
	}
	if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
		out->action = CLI_VERSION;
		return 1;
	}
	if (strcmp(a, "--no-stop") == 0) {
		out->no_stop = 1;
		return 1;
	}
	if ((v = option_value(argc, argv, i, "--pid", "-p", &missing)) || missing) {
		if (missing || parse_pid(v, &out->pid) != 0) {
			*err = usage_error("-p wants a process id, not '%s'",
			                   missing ? "" : v);
			return -1;
		}
		return 1;
	}
	if ((v = option_value(argc, argv, i, "--core", NULL, &missing)) || missing) {
		if (missing) {
			*err = usage_error("%s wants a file", "--core");
			return -1;
		}
		out->core = v;
		return 1;
	}
	if ((v = option_value(argc, argv, i, "--exe", NULL, &missing)) || missing) {
		if (missing) {
			*err = usage_error("%s wants a file", "--exe");
			return -1;
		}
		out->exe = v;
		return 1;
	}
	return 0;
}

/* Looks like a number or `all` (a task id argument), so never a file. */
static int looks_like_id(const char *s)
{
	if (strcmp(s, "all") == 0)
		return 1;
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Second pass over positional arguments: take the CORE and EXE out. */
static tangle_error *pick_target(struct cli_args *out, char **pos, int npos,
                                 char *taken)
{
	int first_file = -1, first_missing = -1;

	for (int k = 0; k < npos; k++) {
		if (looks_like_id(pos[k]))
			continue;
		enum file_kind kind = probe(pos[k]);
		if (kind == FILE_CORE && !out->core && !out->pid) {
			out->core = pos[k];
			taken[k] = 1;
		} else if (kind == FILE_EXE && !out->exe) {
			out->exe = pos[k];
			taken[k] = 1;
		} else if (kind == FILE_OTHER && first_file < 0) {
			first_file = k;
		} else if (kind == FILE_NONE && first_missing < 0 &&
		           (strchr(pos[k], '/') || strncmp(pos[k], "core", 4) == 0)) {
			first_missing = k;
		}
	}
	if (out->core || out->pid)
		return NULL;
	if (first_file >= 0) {
		/* Not an ELF core: let the core reader say what is wrong. */
		out->core = pos[first_file];
		taken[first_file] = 1;
		return NULL;
	}
	if (out->exe)
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "'%s' is an executable, not a core file: give "
		                        "its core too (tangle %s CORE EXE), or a "
		                        "process (-p PID)", out->exe, out->command);
	if (first_missing >= 0)
		return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
		                        "cannot open '%s': %s", pos[first_missing],
		                        strerror(ENOENT));
	return tangle_error_new(TANGLE_INSPECT_EUSAGE, 0,
	                        "no target: give a core file (tangle %s CORE [EXE]) "
	                        "or a process (tangle %s -p PID)",
	                        out->command, out->command);
}

tangle_error *cli_args_parse(int argc, char **argv, struct cli_args *out)
{
	memset(out, 0, sizeof *out);
	out->argv = calloc((size_t)argc + 2, sizeof *out->argv);
	char *taken = calloc((size_t)argc + 1, 1);
	if (!out->argv || !taken) {
		free(taken);
		return &tangle_error_out_of_memory;
	}
	tangle_error *err = NULL;
	/* The engine's arguments in order; positional ones may be taken later. */
	char **rest = out->argv + 1;
	int nrest = 0;
	int dashdash = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!dashdash && strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (!dashdash && a[0] == '-' && a[1]) {
			int r = cli_option(argc, argv, &i, out, &err);
			if (r < 0)
				goto fail;
			if (r == 0)
				rest[nrest++] = argv[i];
			continue;
		}
		if (!out->command && out->action == CLI_RUN && !dashdash) {
			if (strcmp(a, "help") == 0) {
				out->action = CLI_HELP;
				continue;
			}
			out->command = a;
			continue;
		}
		if (out->action == CLI_HELP && !out->command) {
			out->command = a; /* tangle help CMD */
			continue;
		}
		rest[nrest++] = argv[i];
	}

	if (out->action != CLI_RUN) {
		if (out->command && !cli_is_command(out->command)) {
			err = usage_error("unknown command '%s' (tangle help lists them)",
			                  out->command);
			goto fail;
		}
		goto done;
	}
	if (!out->command) {
		out->action = CLI_HELP;
		goto done;
	}
	if (!cli_is_command(out->command)) {
		err = usage_error("unknown command '%s' (tangle help lists them)",
		                  out->command);
		goto fail;
	}
	for (int k = 0; out->pid && !out->core && k < nrest; k++)
		if (rest[k][0] != '-' && !looks_like_id(rest[k]) &&
		    probe(rest[k]) == FILE_CORE)
			out->core = rest[k];
	if (out->pid && out->core) {
		err = usage_error("give a core file or -p PID, not both (%s)", out->core);
		goto fail;
	}
	if (out->no_stop && !out->pid) {
		err = usage_error("%s applies to a live process (-p PID) only",
		                  "--no-stop");
		goto fail;
	}

	/* Positional arguments are the non-dash entries of rest. We cannot
	 * tell the engine's option values from them, so any may be a file;
	 * only ELF cores and executables are taken (see pick_target). */
	if (!out->pid && (!out->core || !out->exe)) {
		char **pos = calloc((size_t)nrest + 1, sizeof *pos);
		int *at = calloc((size_t)nrest + 1, sizeof *at);
		if (!pos || !at) {
			free(pos);
			free(at);
			err = &tangle_error_out_of_memory;
			goto fail;
		}
		int npos = 0;
		for (int k = 0; k < nrest; k++)
			if (rest[k][0] != '-' || !rest[k][1]) {
				at[npos] = k;
				pos[npos++] = rest[k];
			}
		if (!out->core)
			err = pick_target(out, pos, npos, taken);
		else
			for (int k = 0; k < npos && !out->exe; k++)
				if (!looks_like_id(pos[k]) && probe(pos[k]) == FILE_EXE) {
					out->exe = pos[k];
					taken[k] = 1;
				}
		/* Drop what was taken, keeping the order of the rest. */
		int w = 0, p = 0;
		for (int k = 0; k < nrest; k++) {
			if (p < npos && at[p] == k && taken[p++])
				continue;
			rest[w++] = rest[k];
		}
		nrest = w;
		free(pos);
		free(at);
		if (err)
			goto fail;
	}
done:
	out->argv[0] = (char *)(out->command ? out->command : "help");
	out->argc = nrest + 1;
	out->argv[out->argc] = NULL;
	free(taken);
	return NULL;
fail:
	free(taken);
	return err;
}

void cli_args_free(struct cli_args *args)
{
	free(args->argv);
	args->argv = NULL;
	args->argc = 0;
}
