/*
 * output_fixture.h — the small fixed snapshot of the output tests: the
 * lock-order deadlock with saved contexts, and a fake unwinder that gives
 * each task the frames a real one would (runtime frames first).
 */
#ifndef OUTPUT_FIXTURE_H
#define OUTPUT_FIXTURE_H

#include <string.h>

#include "scenarios.h"

static void fx_frame(tangle_frame *f, const char *fn, const char *file, uint32_t line)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->function, sizeof(f->function), "%s", fn);
	snprintf(f->file, sizeof(f->file), "%s", file);
	f->line = line;
	f->pc = 0x400000 + line;
}

/* regs[0] (r15) of the saved context tells the tasks apart. */
static int fx_task(void *ctx, const tangle_context *c, tangle_frame *f, int max)
{
	(void)ctx;
	if (max < 4 || c->count < 1)
		return -1;
	fx_frame(&f[0], "tangle__suspend", "/build/runtime/src/task.c", 210);
	fx_frame(&f[1], "tangle_mutex_lock_at", "/build/runtime/src/mutex.c", 64);
	fx_frame(&f[2], "transfer", "/src/bank.c", c->regs[0].value == 12 ? 88 : 82);
	fx_frame(&f[3], "worker_main", "/src/bank.c", 120);
	return 4;
}

static tb *fx_build(void)
{
	tb *b = tb_new(&(tb_opts){.seed = 3, .base = 0x7f0000000000ull});
	sc_lock_order(b, 12, 0, "accounts", "ledger");
	uint64_t main = tb_task(b, 1, "main", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, main, TANGLE_DEBUG_WAIT_SLEEP, TANGLE_DEBUG_OP_SLEEP, 0, TB_S(99),
	        tb_site(b, "/src/main.c", "main_task", 44), 0);
	uint64_t spawn = tb_site(b, "/src/main.c", "main_task", 40);
	/* saved contexts for the two transfer tasks */
	const uint64_t ids[2] = {12, 13};
	for (int i = 0; i < 2; i++) {
		uint64_t t = 0;
		/* find the task record: it is the i-th in the first slab */
		uint64_t slab = tb_slab(b, 0, 0), tasks = 0;
		memcpy(&tasks, (char *)tb_ptr(b, slab) + tb_off(b, TANGLE_DR_SLAB, TANGLE_DF_SLAB_TASKS), 8);
		t = tasks + (uint64_t)i * (tb_size(b, TANGLE_DR_TASK) + 16);
		uint64_t stack = tb_alloc(b, 1024);
		uint64_t sp = stack + 512;
		tb_put(b, sp, ids[i], 8);
		for (int k = 1; k < 7; k++)
			tb_put(b, sp + 8 * (uint64_t)k, 0x401000 + (uint64_t)k, 8);
		tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_SAVED_SP, sp);
		tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_PARENT_ID, 1);
		tb_set(b, TANGLE_DR_TASK, t, TANGLE_DF_TASK_SPAWN_SITE, spawn);
	}
	return b;
}

static tangle_session *fx_open(tb *b, const tangle_unwinder *uw)
{
	tangle_reader r;
	tb_reader(b, &r);
	tangle_session_options o = {.now_kind = TANGLE_NOW_MONO, .now = NOW,
	                            .target = "core.4711"};
	tangle_session *s = NULL;
	tangle_error *err = tangle_session_open(tb_reader_ptr(b), uw, &o, &s);
	tangle_error_free(err);
	return s;
}

#endif
