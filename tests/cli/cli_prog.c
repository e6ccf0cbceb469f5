/*
 * cli_prog.c — small libtangle programs for the CLI's tests and its speed
 * measurement. Each mode builds a known state, prints "ready" and waits to
 * be dumped or attached to:
 *
 *   cli_prog sleepers N   N tasks "sleeper-I" sleeping for a day
 *                         (healthy: no finding)
 *   cli_prog self         task "selfish" locks mutex "ledger" twice
 *                         (deadlock, shape self)
 *   cli_prog held         task "holder" holds mutex "ledger" while it
 *                         sleeps; task "waiter" waits for "ledger"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tangle.h"

#define DAY_MS (24u * 3600u * 1000u)

static void *sleeper(void *arg)
{
	(void)arg;
	tangle_sleep_ms(DAY_MS);
	return NULL;
}

static int sleepers(tangle_runtime *rt, long n)
{
	char name[32];
	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof name, "sleeper-%ld", i);
		tangle_task *t = tangle_spawn_on(rt, name, sleeper, NULL);
		if (!t || tangle_detach(t) != 0)
			return -1;
	}
	return 0;
}

static tangle_mutex ledger;
static volatile int waiting;

static void *selfish(void *arg)
{
	(void)arg;
	tangle_mutex_lock(&ledger);
	waiting = 1;
	tangle_mutex_lock(&ledger); /* CLI_PROG_SELF_LINE */
	return NULL;
}

static void *holder(void *arg)
{
	(void)arg;
	tangle_mutex_lock(&ledger);
	tangle_sleep_ms(DAY_MS);
	return NULL;
}

static void *waiter(void *arg)
{
	(void)arg;
	tangle_sleep_ms(50);
	waiting = 1;
	tangle_mutex_lock(&ledger); /* CLI_PROG_WAIT_LINE */
	return NULL;
}

int main(int argc, char **argv)
{
	tangle_config cfg = {.workers = 2, .name = "cli-prog"};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	if (!rt || argc < 2)
		return 1;
	if (strcmp(argv[1], "sleepers") == 0) {
		if (sleepers(rt, argc > 2 ? atol(argv[2]) : 10) != 0)
			return 1;
	} else if (strcmp(argv[1], "self") == 0 || strcmp(argv[1], "held") == 0) {
		tangle_mutex_init(&ledger, "ledger");
		int self = strcmp(argv[1], "self") == 0;
		tangle_task *a = tangle_spawn_on(rt, self ? "selfish" : "holder",
		                                 self ? selfish : holder, NULL);
		tangle_task *b = self ? NULL
		                      : tangle_spawn_on(rt, "waiter", waiter, NULL);
		if (!a || (!self && !b))
			return 1;
		while (!waiting)
			usleep(1000);
	} else {
		fprintf(stderr, "cli_prog: unknown mode %s\n", argv[1]);
		return 1;
	}
	usleep(200 * 1000); /* let the tasks reach their waits */
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
