/*
 * bench_switch.c — the bare stack switch (context_<arch>.S), without the
 * scheduler: two contexts switching to each other, ns per switch. This is
 * the figure to set against libaco's swap (~11 ns here); yield_pingpong_ct
 * adds the scheduler (run queue, bookkeeping) on top. It uses the runtime's
 * internal tangle__ctx_init / tangle__ctx_switch (scheduler.h), which link
 * from the static libraries. Not built under sanitizers: they are not told
 * about this stack.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "harness.h"
#include "scheduler.h"

#define BENCH_STACK_SIZE (64 * 1024)

static _Alignas(64) unsigned char co_stack[BENCH_STACK_SIZE];
static void *main_sp, *co_sp;

static void co_entry(void *data, void *arg)
{
	(void)data;
	(void)arg;
	for (;;)
		tangle__ctx_switch(&co_sp, main_sp, NULL);
}

/* n switches: n / 2 round trips main -> co -> main. */
static uint64_t ctx_switch_raw(uint64_t n)
{
	co_sp = tangle__ctx_init(co_stack + sizeof co_stack, co_entry, NULL);
	tangle__ctx_switch(&main_sp, co_sp, NULL); /* start co */
	uint64_t start = bench_now_ns();
	for (uint64_t i = 0; i < n / 2; i++)
		tangle__ctx_switch(&main_sp, co_sp, NULL);
	uint64_t t = bench_now_ns() - start;
	return n / 2 ? t * n / (n / 2 * 2) : t;
}

const bench bench_switch[] = {
	{"ctx_switch_raw", 0, ctx_switch_raw},
	{0},
};
