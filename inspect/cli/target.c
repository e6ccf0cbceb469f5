/*
 * target.c — assemble a core or live target for the engine (see target.h).
 */
#include "target.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "symbols.h"
#include "tangle_debug.h"

static size_t target_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct cli_target *t = ctx;
	if (t->core)
		return cli_core_read(t->core, addr, buf, len);
	if (t->live)
		return cli_live_read(t->live, addr, buf, len);
	return 0;
}

static int target_lookup(void *ctx, const char *symbol, uint64_t *addr)
{
	struct cli_target *t = ctx;
	return t->dwfl ? cli_symbol_lookup(t->dwfl, &t->reader, symbol, addr) : -1;
}

static Dwfl *make_core_dwfl(void *arg)
{
	struct cli_target *t = arg;
	Dwfl *dwfl;
	tangle_error *err = cli_dwfl_core(t->core, &dwfl);
	if (err) {
		tangle_error_free(err);
		return NULL;
	}
	return dwfl;
}

static Dwfl *make_live_dwfl(void *arg)
{
	struct cli_target *t = arg;
	Dwfl *dwfl;
	tangle_error *err = cli_dwfl_live(t->pid, &dwfl);
	if (err) {
		tangle_error_free(err);
		return NULL;
	}
	return dwfl;
}

static int core_thread_context(void *arg, uint32_t tid, tangle_context *out)
{
	return cli_core_thread_context(arg, tid, out);
}

static tangle_error *find_root(struct cli_target *t, const char *program)
{
	if (cli_symbol_lookup(t->dwfl, &t->reader, TANGLE_DEBUG_SYMBOL,
	                      &t->options.root) == 0)
		return NULL;
	return tangle_error_new(TANGLE_INSPECT_ENOTABLE, 0,
	                        "%s does not use libtangle: no %s symbol or %s "
	                        "section in it or its libraries",
	                        program, TANGLE_DEBUG_SYMBOL, TANGLE_DEBUG_SECTION);
}

static tangle_error *open_core(const struct cli_args *a, struct cli_target *t)
{
	tangle_error *err = cli_core_open(a->core, a->exe, &t->core);
	if (err)
		return err;
	Elf *elf = cli_core_elf(t->core);
	if ((err = cli_dwfl_core(t->core, &t->dwfl)))
		return err;
	char program[400];
	snprintf(program, sizeof program, "'%s'", cli_core_exe(t->core));
	if ((err = find_root(t, program)))
		return err;
	t->unwind.thread_context = core_thread_context;
	t->unwind.thread_context_arg = t->core;
	t->unwind.make_dwfl = make_core_dwfl;
	t->unwind.elf = elf;
	t->options.now_kind = TANGLE_NOW_REAL;
	t->options.now = cli_core_mtime_ns(t->core);
	snprintf(t->name, sizeof t->name, "%s (%s)", a->core, cli_core_exe(t->core));
	return NULL;
}

static tangle_error *open_live(const struct cli_args *a, struct cli_target *t)
{
	t->pid = a->pid;
	tangle_error *err = cli_live_open(a->pid, !a->no_stop, &t->live);
	if (err)
		return err;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t->options.now_kind = TANGLE_NOW_MONO;
	t->options.now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	t->options.torn = a->no_stop;
	if ((err = cli_dwfl_live(a->pid, &t->dwfl)))
		return err;
	char exe[256] = "", link[64];
	snprintf(link, sizeof link, "/proc/%d/exe", a->pid);
	ssize_t n = readlink(link, exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	char program[400];
	snprintf(program, sizeof program, "process %d%s%s%s", a->pid,
	         *exe ? " (" : "", exe, *exe ? ")" : "");
	if ((err = find_root(t, program)))
		return err;
	if (cli_live_stopped(t->live) &&
	    dwfl_linux_proc_attach(t->dwfl, a->pid, true) == 0)
		t->unwind.threads = t->dwfl;
	t->unwind.make_dwfl = make_live_dwfl;
	snprintf(t->name, sizeof t->name, "pid %d%s%s%s", a->pid,
	         *exe ? " (" : "", exe, *exe ? ")" : "");
	return NULL;
}

tangle_error *cli_target_open(const struct cli_args *a, struct cli_target *t)
{
	memset(t, 0, sizeof *t);
	t->reader.ctx = t;
	t->reader.read = target_read;
	t->reader.lookup = target_lookup;
	t->unwind.mem = &t->reader;
	t->unwind.make_arg = t;
	tangle_error *err = a->pid ? open_live(a, t) : open_core(a, t);
	if (err) {
		cli_target_close(t);
		return err;
	}
	t->unwinder = cli_unwinder(&t->unwind);
	t->options.target = t->name;
	return NULL;
}

void cli_target_close(struct cli_target *t)
{
	cli_unwind_fini(&t->unwind);
	if (t->dwfl)
		dwfl_end(t->dwfl);
	t->dwfl = NULL;
	cli_live_close(t->live);
	t->live = NULL;
	cli_core_close(t->core);
	t->core = NULL;
}
