/*
 * clock.c — the exact clock (deadlines) and the cached one (debug stamps).
 *
 * A clock read costs 10-50 ns on the machines we measured, more than a
 * switch, so debug timestamps read a per-worker copy refreshed every
 * TANGLE__TICK_MAINTENANCE picks and whenever the worker parks or wakes
 * (a few ms stale at worst while tasks switch; a task that computes for a
 * long time without switching keeps it stale until its next switch).
 * Run time (RUN_NS) is counted at each refresh, not at each switch: the
 * step since the previous refresh goes to the task at whose switch point
 * the refresh happens. With a clock that moves only at refreshes that is
 * what per-switch accounting gave too, at no cost per switch.
 */
#include <time.h>

#include "scheduler.h"

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t tangle__clock_precise(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

uint64_t tangle__clock(void)
{
	struct tangle_worker *w = tangle__worker_self();
	return w ? w->clock : read_clock(CLOCK_MONOTONIC);
}

void tangle__clock_refresh(struct tangle_worker *w)
{
	uint64_t now = read_clock(CLOCK_MONOTONIC);
	/* Run time is counted in clock steps: the running task (if this is
	 * a task's switch point) gets the step since the last refresh. */
	TANGLE_DBG({
		struct tangle_task *t = w->current;
		if (t && now > w->clock)
			DBG_STORE(t->run_ns, t->run_ns + (now - w->clock));
	});
	w->clock = now;
}

uint64_t tangle__clock_real(void)
{
	return read_clock(CLOCK_REALTIME);
}
