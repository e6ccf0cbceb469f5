/*
 * rt_test.h — helpers shared by the runtime tests: run a test body as the
 * main task of a fresh runtime of each flavour.
 */
#ifndef TANGLE_RT_TEST_H
#define TANGLE_RT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "tangle.h"

static inline uint64_t rt_test_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Run body(arg) as the main task of a new runtime with `workers` workers
 * (0 = current_thread flavour). */
static inline void rt_test_run(unsigned workers, tangle_fn body, void *arg)
{
	tangle_config cfg = {0};
	cfg.current_thread = workers == 0;
	cfg.workers = workers;
	cfg.name = "test";
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	assert_non_null(rt);
	assert_int_equal(tangle_runtime_run(rt, body, arg), TANGLE_OK);
	tangle_runtime_free(rt);
}

/* Both flavours: current-thread and two workers. */
static inline void rt_test_both(tangle_fn body, void *arg)
{
	rt_test_run(0, body, arg);
	rt_test_run(2, body, arg);
}

#endif
