/*
 * bench_tasks.c — scheduling: yield (one task, and two tasks switching to
 * each other) and spawn+join, on a current-thread and a multi-worker
 * runtime. Each function runs inside a task and times n operations.
 */
#include <stdint.h>

#include "harness.h"
#include "tangle.h"

/* One task yielding in a loop: ns per yield. */
static uint64_t yield_loop(uint64_t n)
{
	uint64_t start = bench_now_ns();
	for (uint64_t i = 0; i < n; i++)
		BENCH_CHECK(tangle_yield());
	return bench_now_ns() - start;
}

static void *yield_n(void *arg)
{
	uint64_t n = (uint64_t)(uintptr_t)arg;
	for (uint64_t i = 0; i < n; i++)
		BENCH_CHECK(tangle_yield());
	return NULL;
}

/* Two tasks yielding to each other: ns per yield (n yields in all), i.e.
 * per switch from one task to the other through the scheduler. */
static uint64_t yield_pingpong(uint64_t n)
{
	uint64_t start = bench_now_ns();
	tangle_task *other = BENCH_CHECK_PTR(
		tangle_spawn("yielder", yield_n, (void *)(uintptr_t)(n / 2)));
	for (uint64_t i = 0; i < n - n / 2; i++)
		BENCH_CHECK(tangle_yield());
	BENCH_CHECK(tangle_join(other, NULL));
	return bench_now_ns() - start;
}

static void *identity(void *arg)
{
	return arg;
}

/* Spawn a task that returns a value, then join it: ns per spawn+join. */
static uint64_t spawn_join(uint64_t n)
{
	uint64_t start = bench_now_ns();
	uintptr_t sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		void *result;
		tangle_task *t = BENCH_CHECK_PTR(
			tangle_spawn("child", identity, (void *)(uintptr_t)i));
		BENCH_CHECK(tangle_join(t, &result));
		sum += (uintptr_t)result;
	}
	BENCH_KEEP(sum);
	return bench_now_ns() - start;
}

const bench bench_tasks[] = {
	{"yield_ct", 0, yield_loop},
	{"yield_pingpong_ct", 0, yield_pingpong},
	{"spawn_join_ct", 0, spawn_join},
	{"spawn_join_mt", 1, spawn_join},
	{0},
};
