/*
 * lldb_app: a small tangle program for the lldb frontend's tests. Tasks
 * wait in known functions, with known locals, then the program prints
 * "ready" and waits for the test to attach or take a core dump:
 *   "sleeper"  sleeps in nap()             (local: rounds = 7)
 *   "parker"   parks in wait_signal() and its waker is dropped: a lost
 *              wake-up (local: attempts = 3)
 *   "joiner"   joins the sleeper in await_sleeper()
 * The main task joins the joiner.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tangle.h"

static tangle_task *sleeper;

__attribute__((noinline)) static int nap(int seconds)
{
	volatile int rounds = 7;
	int rc = tangle_sleep_ms((uint64_t)seconds * 1000);
	return rc + rounds;
}

static void *sleeper_main(void *arg)
{
	(void)arg;
	for (;;)
		nap(3600);
	return NULL;
}

__attribute__((noinline)) static int wait_signal(const char *what)
{
	volatile int attempts = 3;
	tangle_waker *w = tangle_waker_current();
	tangle_waker_drop(w); /* the bug: nobody can wake us now */
	int rc = tangle_park(what);
	return rc + attempts;
}

static void *parker_main(void *arg)
{
	(void)arg;
	for (;;)
		wait_signal("the config reload signal");
	return NULL;
}

__attribute__((noinline)) static void *await_sleeper(void)
{
	void *result = NULL;
	tangle_join(sleeper, &result);
	return result;
}

static void *joiner_main(void *arg)
{
	(void)arg;
	return await_sleeper();
}

static void *main_task(void *arg)
{
	(void)arg;
	sleeper = tangle_spawn("sleeper", sleeper_main, NULL);
	tangle_task *parker = tangle_spawn("parker", parker_main, NULL);
	tangle_task *joiner = tangle_spawn("joiner", joiner_main, NULL);
	if (!sleeper || !parker || !joiner)
		exit(3);
	tangle_sleep_ms(50); /* let them all reach their waits */
	printf("ready\n");
	fflush(stdout);
	tangle_join(joiner, NULL);
	return NULL;
}

int main(void)
{
	tangle_config cfg = {.workers = 2, .name = "lldb-app"};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	if (!rt)
		return 3;
	tangle_runtime_run(rt, main_task, NULL);
	tangle_runtime_free(rt);
	return 0;
}
