/*
 * lldb_steps: a task whose wait changes between two stops of a debugger,
 * for checking that lldb shows each stop's wait (not the previous one's).
 * main calls checkpoint(1) 20 ms after spawning "stepper", which then
 * sleeps (50 ms), and checkpoint(2) 100 ms later, when the stepper is
 * parked on "stage two" (its waker kept: not a lost wake-up).
 */
#include <stdio.h>

#include "tangle.h"

static tangle_waker *stepper_waker;

__attribute__((noinline)) void checkpoint(int n)
{
	__asm__ volatile("" : : "r"(n) : "memory");
}

static void *stepper_main(void *arg)
{
	(void)arg;
	tangle_sleep_ms(50);
	stepper_waker = tangle_waker_current();
	for (;;)
		tangle_park("stage two");
	return NULL;
}

static void *main_task(void *arg)
{
	(void)arg;
	tangle_task *t = tangle_spawn("stepper", stepper_main, NULL);
	if (!t)
		return NULL;
	tangle_sleep_ms(20);
	checkpoint(1);
	tangle_sleep_ms(100);
	checkpoint(2);
	tangle_cancel(t);
	tangle_join(t, NULL);
	return NULL;
}

int main(void)
{
	tangle_config cfg = {.workers = 2, .name = "steps"};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	if (!rt)
		return 3;
	tangle_runtime_run(rt, main_task, NULL);
	tangle_runtime_free(rt);
	return 0;
}
