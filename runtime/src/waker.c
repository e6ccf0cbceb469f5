/*
 * waker.c — the public waker API and tangle_park.
 *
 * A waker names a task by slot and generation: once the task has ended and
 * its slot was reused, the generation differs and the waker does nothing.
 * Live wakers are counted in the task record (live_wakers), so the tools
 * can tell a parked task that nothing can wake any more (a lost wake-up).
 *
 * A wake sets the task's `unpark` token and wakes it; tangle_park consumes
 * the token, so a wake that comes before the park is not lost, and wakes
 * meant for other waits of the task cannot be mistaken for one.
 */
#include <errno.h>
#include <stdlib.h>

#include "scheduler.h"

struct tangle_waker {
	struct tangle_task *task;
	uint32_t generation;
};

static bool same_task(const struct tangle_waker *w)
{
	return __atomic_load_n(&w->task->generation, __ATOMIC_ACQUIRE) ==
	       w->generation;
}

tangle_waker *tangle_waker_current(void)
{
	struct tangle_task *t = tangle__current();
	if (!t) {
		errno = EPERM;
		return NULL;
	}
	struct tangle_waker *w = malloc(sizeof *w);
	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->task = t;
	w->generation = t->generation;
	atomic_fetch_add_explicit(&t->live_wakers, 1, memory_order_relaxed);
	return w;
}

void tangle_waker_wake(tangle_waker *w)
{
	if (!w || !same_task(w))
		return;
	atomic_store_explicit(&w->task->sched.unpark, 1, memory_order_release);
	tangle__wake(w->task);
}

void tangle_waker_drop(tangle_waker *w)
{
	if (!w)
		return;
	if (same_task(w))
		atomic_fetch_sub_explicit(&w->task->live_wakers, 1,
		                          memory_order_relaxed);
	free(w);
}

int tangle_park_at(const char *what, const tangle_site *site)
{
	int err = tangle__wait_check();
	if (err)
		return err;
	struct tangle_task *t = tangle__current();
	if (!atomic_exchange_explicit(&t->sched.unpark, 0, memory_order_acquire)) {
		struct tangle_waiter *w = tangle__waiter_begin(
			TANGLE_DEBUG_WAIT_PARK, TANGLE_DEBUG_OP_PARK, NULL, 0, -1, site);
		w->what = what;
		tangle__suspend();
		atomic_store_explicit(&w->state, TANGLE_DEBUG_WAITER_WOKEN,
		                      memory_order_relaxed);
		atomic_exchange_explicit(&t->sched.unpark, 0, memory_order_acquire);
	}
	return tangle__wait_check();
}
