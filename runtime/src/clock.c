/*
 * clock.c — the exact clock (deadlines) and the cached one (debug stamps).
 *
 * A clock read costs 10-50 ns on the machines we measured, more than a
 * switch, so debug timestamps read a per-worker copy refreshed every
 * TANGLE__TICK_MAINTENANCE picks and whenever the worker parks or wakes
 * (a few ms stale at worst while tasks switch; a task that computes for a
 * long time without switching keeps it stale until its next switch).
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
	w->clock = read_clock(CLOCK_MONOTONIC);
}

uint64_t tangle__clock_real(void)
{
	return read_clock(CLOCK_REALTIME);
}
