/*
 * lldb_many: N tasks (argv[1], default 100000) asleep in idle_wait(), for
 * measuring the lldb frontend on a big table (tests/lldb/bench_lldb.py).
 * Prints "ready" once every task has been spawned and has had time to
 * reach its sleep.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tangle.h"

static long count = 100000;

__attribute__((noinline)) static void idle_wait(void)
{
	volatile int naps = 0;
	for (;;) {
		tangle_sleep_ms(3600 * 1000);
		naps++;
	}
}

static void *idler(void *arg)
{
	(void)arg;
	idle_wait();
	return NULL;
}

static void *main_task(void *arg)
{
	(void)arg;
	for (long i = 0; i < count; i++) {
		tangle_task *t = tangle_spawn("idler", idler, NULL);
		if (!t || tangle_detach(t) != TANGLE_OK) {
			fprintf(stderr, "spawn %ld failed\n", i);
			exit(3);
		}
		if (i % 1000 == 999)
			tangle_yield();
	}
	tangle_sleep_ms(500);
	printf("ready\n");
	fflush(stdout);
	tangle_sleep_ms(3600 * 1000);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		count = atol(argv[1]);
	tangle_config cfg = {.workers = 2, .stack_size = 16 * 1024, .name = "many"};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	if (!rt)
		return 3;
	tangle_runtime_run(rt, main_task, NULL);
	tangle_runtime_free(rt);
	return 0;
}
