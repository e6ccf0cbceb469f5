/*
 * gdb_many.c — N tasks (argument, default 100000) for measuring the gdb
 * frontend on big programs (perf.py): most wait on notifies as idle
 * servers do, every 100th sleeps, every 1000th queues on a held mutex.
 * Prints "gdb_many ready" and calls gdb_many_ready() from a plain thread;
 * then aborts (second argument "abort") or waits.
 *
 * Each task has a stack mapping plus a guard page: more than 32,000 tasks
 * need vm.max_map_count above its default 65530 (perf.py raises it).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "tangle.h"

static tangle_notify idle[64];
static tangle_mutex busy;
static int arrived;

__attribute__((noinline)) void gdb_many_ready(void)
{
	__asm__ volatile("" ::: "memory");
}

static void *worker(void *arg)
{
	unsigned long i = (unsigned long)arg;
	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
	if (i % 1000 == 1)
		tangle_mutex_lock(&busy);
	else if (i % 100 == 2)
		tangle_sleep_ms(600000);
	else
		tangle_notify_wait(&idle[i % 64]);
	return NULL;
}

static void *holder(void *arg)
{
	(void)arg;
	tangle_mutex_lock(&busy);
	tangle_sleep_ms(600000);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	int dump = argc > 2 && strcmp(argv[2], "abort") == 0;
	tangle_mutex_init(&busy, "busy");
	for (int i = 0; i < 64; i++)
		tangle_notify_init(&idle[i], "idle");
	tangle_config cfg = {.workers = 2, .stack_size = 16 * 1024,
	                     .name = "gdb-many"};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	if (!rt || !tangle_spawn_on(rt, "holder", holder, NULL)) {
		perror("tangle");
		return 1;
	}
	usleep(20 * 1000);
	for (unsigned long i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof name, "conn-%lu", i);
		tangle_task *t = tangle_spawn_on(rt, name, worker, (void *)i);
		if (!t || tangle_detach(t) != 0) {
			fprintf(stderr, "spawn %lu: %s\n", i, strerror(errno));
			return 1;
		}
	}
	while (__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) < (int)n)
		usleep(10 * 1000);
	usleep(100 * 1000);
	printf("gdb_many ready\n");
	fflush(stdout);
	gdb_many_ready();
	if (dump)
		abort();
	for (;;)
		pause();
}
