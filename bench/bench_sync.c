/*
 * bench_sync.c — the primitives: channel ping-pong (capacity 1), mutex
 * (uncontended, contended by several tasks on several workers, and handed
 * off on every lock) and semaphore. Each function runs inside a task and
 * times n operations. A primitive's benchmarks are compiled only once its
 * source file is in runtime/src (BENCH_HAVE_*, set by CMakeLists.txt), so
 * the benchmarks build while the runtime grows.
 */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "tangle.h"

#if BENCH_HAVE_CHAN
/* ---- channel ping-pong ------------------------------------------------- */

struct echo {
	tangle_chan *in, *out;
};

static void *echo_main(void *arg)
{
	struct echo *e = arg;
	uint64_t v;
	for (;;) {
		int err = tangle_chan_recv(e->in, &v);
		if (err == TANGLE_ECLOSED)
			return NULL;
		BENCH_CHECK(err);
		BENCH_CHECK(tangle_chan_send(e->out, &v));
	}
}

/* Two capacity-1 channels and an echo task: ns per round trip. */
static uint64_t chan_pingpong(uint64_t n)
{
	struct echo e = {
		BENCH_CHECK_PTR(tangle_chan_new(sizeof(uint64_t), 1, "ping")),
		BENCH_CHECK_PTR(tangle_chan_new(sizeof(uint64_t), 1, "pong")),
	};
	tangle_task *echo = BENCH_CHECK_PTR(tangle_spawn("echo", echo_main, &e));
	uint64_t start = bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v;
		BENCH_CHECK(tangle_chan_send(e.in, &i));
		BENCH_CHECK(tangle_chan_recv(e.out, &v));
		BENCH_KEEP(v);
	}
	uint64_t t = bench_now_ns() - start;
	BENCH_CHECK(tangle_chan_close(e.in));
	BENCH_CHECK(tangle_join(echo, NULL));
	BENCH_CHECK(tangle_chan_free(e.in));
	BENCH_CHECK(tangle_chan_free(e.out));
	return t;
}

#endif

#if BENCH_HAVE_MUTEX
/* ---- mutex --------------------------------------------------------------- */

/* Lock and unlock a mutex nobody else touches: ns per lock+unlock. */
static uint64_t mutex_uncontended(uint64_t n)
{
	tangle_mutex m;
	uint64_t counter = 0;
	BENCH_CHECK(tangle_mutex_init(&m, "uncontended"));
	uint64_t start = bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		BENCH_CHECK(tangle_mutex_lock(&m));
		counter++;
		BENCH_CHECK(tangle_mutex_unlock(&m));
	}
	uint64_t t = bench_now_ns() - start;
	BENCH_KEEP(counter);
	BENCH_CHECK(tangle_mutex_destroy(&m));
	return t;
}

struct hammer {
	tangle_mutex *m;
	uint64_t *counter;
	uint64_t n;
	int yield_inside;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	for (uint64_t i = 0; i < h->n; i++) {
		BENCH_CHECK(tangle_mutex_lock(h->m));
		++*h->counter;
		if (h->yield_inside)
			BENCH_CHECK(tangle_yield());
		BENCH_CHECK(tangle_mutex_unlock(h->m));
	}
	return NULL;
}

#define MAX_HAMMERS 64

/* `tasks` tasks share n lock+unlock operations on one mutex; returns the
 * time from the first spawn to the last join. Exits if the count is off. */
static uint64_t hammer(uint64_t n, uint64_t tasks, int yield_inside)
{
	tangle_mutex m;
	uint64_t counter = 0;
	struct hammer h[MAX_HAMMERS];
	tangle_task *t[MAX_HAMMERS];
	BENCH_CHECK(tangle_mutex_init(&m, "contended"));
	uint64_t start = bench_now_ns();
	for (uint64_t k = 0; k < tasks; k++) {
		h[k] = (struct hammer){&m, &counter, n / tasks + (k < n % tasks),
		                       yield_inside};
		t[k] = BENCH_CHECK_PTR(tangle_spawn("hammer", hammer_main, &h[k]));
	}
	for (uint64_t k = 0; k < tasks; k++)
		BENCH_CHECK(tangle_join(t[k], NULL));
	uint64_t elapsed = bench_now_ns() - start;
	BENCH_CHECK(tangle_mutex_destroy(&m));
	if (counter != n)
		bench_fail(__FILE__, __LINE__, "mutex count", TANGLE_EINVAL);
	return elapsed;
}

/* BENCH_MUTEX_TASKS (default 4) tasks hammering one mutex on a multi-worker
 * runtime: ns per lock+unlock (n in all). */
static uint64_t mutex_contended(uint64_t n)
{
	uint64_t tasks = bench_env("BENCH_MUTEX_TASKS", 4);
	if (tasks < 1)
		tasks = 1;
	if (tasks > MAX_HAMMERS)
		tasks = MAX_HAMMERS;
	return hammer(n, tasks, 0);
}

/* Two tasks that yield while holding the mutex, so every lock waits and is
 * handed off (FIFO): ns per lock+unlock (n in all). */
static uint64_t mutex_handoff(uint64_t n)
{
	return hammer(n, 2, 1);
}

#endif

#if BENCH_HAVE_SEM
/* ---- semaphore ------------------------------------------------------------ */

/* Acquire and release one permit nobody else wants: ns per pair. */
static uint64_t sem_uncontended(uint64_t n)
{
	tangle_sem s;
	BENCH_CHECK(tangle_sem_init(&s, 1, "sem"));
	uint64_t start = bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		BENCH_CHECK(tangle_sem_acquire(&s, 1));
		BENCH_CHECK(tangle_sem_release(&s, 1));
	}
	uint64_t t = bench_now_ns() - start;
	BENCH_CHECK(tangle_sem_destroy(&s));
	return t;
}

#endif

const bench bench_sync[] = {
#if BENCH_HAVE_CHAN
	{"chan_pingpong_ct", 0, chan_pingpong},
	{"chan_pingpong_mt", 1, chan_pingpong},
#endif
#if BENCH_HAVE_MUTEX
	{"mutex_uncontended_ct", 0, mutex_uncontended},
	{"mutex_contended_mt", 1, mutex_contended},
	{"mutex_handoff_ct", 0, mutex_handoff},
#endif
#if BENCH_HAVE_SEM
	{"sem_uncontended_ct", 0, sem_uncontended},
#endif
	{0},
};
