/*
 * sync_helpers.h — shared by the synchronisation primitives' tests.
 *
 * cmocka's assertions jump back to the test with longjmp, which must not
 * happen on a task's stack or a worker thread. Inside tasks we use CHECK*,
 * which record failures (and print them) and carry on; the test body runs
 * the runtime with run_rt() and then asserts that no CHECK failed.
 */
#ifndef SYNC_HELPERS_H
#define SYNC_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tangle.h"

/* Race loops run fewer rounds under TSan, which slows switches tenfold. */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define ROUNDS(n) ((n) / 4)
#else
#define ROUNDS(n) (n)
#endif

static _Atomic int check_failures_;

static inline void check_eq_(long long a, long long b, const char *ea, const char *eb,
                      const char *file, int line)
{
	if (a == b)
		return;
	atomic_fetch_add(&check_failures_, 1);
	fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", file,
	        line, ea, eb, a, b);
}

#define CHECK(cond) \
	check_eq_(!!(cond), 1, #cond, "true", __FILE__, __LINE__)
#define CHECK_EQ(a, b) \
	check_eq_((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_OK(call) CHECK_EQ((call), TANGLE_OK)

/* Run fn(arg) as the main task of a fresh runtime (workers = 0 and
 * current_thread = 1: the single-threaded flavour), then check that no
 * CHECK failed. */
static inline void run_rt(unsigned workers, int current_thread, tangle_fn fn,
                   void *arg)
{
	atomic_store(&check_failures_, 0);
	tangle_config cfg = {.workers = workers, .current_thread = current_thread,
	                     .stack_size = 64 * 1024};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	assert_non_null(rt);
	assert_int_equal(tangle_runtime_run(rt, fn, arg), TANGLE_OK);
	tangle_runtime_free(rt);
	assert_int_equal(atomic_load(&check_failures_), 0);
}

/* Let every runnable task run until it blocks (the single-threaded
 * flavour runs queued tasks in order, and a yield goes to the back). */
static inline void settle(void)
{
	for (int i = 0; i < 16; i++)
		tangle_yield();
}

/* Wait until *flag reaches want, letting other tasks run meanwhile. */
static inline void await_count(_Atomic int *flag, int want)
{
	while (atomic_load(flag) < want)
		tangle_sleep_ms(1);
}

/* Join t and return its result as an int. */
static inline long join_int(tangle_task *t)
{
	void *r = NULL;
	CHECK_OK(tangle_join(t, &r));
	return (long)(intptr_t)r;
}

#define INT_PTR(v) ((void *)(intptr_t)(v))

static inline uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A small deterministic random generator per task. */
static inline uint32_t rnd_next(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x ? x : 0x9e3779b9u;
}

#endif /* SYNC_HELPERS_H */
