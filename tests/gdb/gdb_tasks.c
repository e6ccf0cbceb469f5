/*
 * gdb_tasks.c — a small libtangle program for the gdb tests: tasks
 * suspended a few calls deep (with locals the tests print) in a sleep, a
 * park and a join, and the main task running. It prints "gdb_tasks ready"
 * and calls gdb_tasks_ready() from the main task, where the tests stop it;
 * then it aborts (argument "abort", for a kernel core) or waits.
 *
 * Tasks: 1 "main" (running), 2 "sleeper", 3 "parker", 4 "joiner".
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tangle.h"

static int dump_core;
static tangle_waker *parker_waker;
static int arrived;   /* tasks about to make their last wait */

static void arrive(void)
{
	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
}

__attribute__((noinline)) void gdb_tasks_ready(void)
{
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void sleep_deep(int depth)
{
	volatile int sleep_local = 4240 + depth;
	if (depth > 0) {
		sleep_deep(depth - 1);
		return;
	}
	arrive();
	tangle_sleep_ms(600000);
	printf("%d\n", sleep_local);
}

static void *sleeper(void *arg)
{
	(void)arg;
	sleep_deep(2);
	return NULL;
}

static __attribute__((noinline)) void wait_for_signal(const char *what)
{
	volatile int park_local = 77;
	parker_waker = tangle_waker_current();
	arrive();
	tangle_park(what);
	printf("%d\n", park_local);
}

static void *parker(void *arg)
{
	(void)arg;
	tangle_task_set_label("role", "signal-waiter"); /* tangle tasks --label */
	wait_for_signal("the test's signal");
	return NULL;
}

static void *joiner(void *arg)
{
	tangle_task *target = arg;
	volatile unsigned long join_local = 99;
	arrive();
	tangle_join(target, NULL);
	printf("%lu\n", join_local);
	return NULL;
}

static void *main_task(void *arg)
{
	(void)arg;
	tangle_task *s = tangle_spawn("sleeper", sleeper, NULL);
	tangle_task *p = tangle_spawn("parker", parker, NULL);
	tangle_task *j = tangle_spawn("joiner", joiner, s);
	if (!s || !p || !j) {
		perror("tangle_spawn");
		exit(1);
	}
	while (__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) < 3)
		tangle_sleep_ms(10);
	tangle_sleep_ms(50);   /* from arriving to suspended */
	printf("gdb_tasks ready\n");
	fflush(stdout);
	gdb_tasks_ready();
	if (dump_core)
		abort();
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	dump_core = argc > 1 && strcmp(argv[1], "abort") == 0;
	tangle_config cfg = {.workers = 2, .name = "gdb-tasks"};
	tangle_runtime *rt = tangle_runtime_new(&cfg);
	if (!rt) {
		perror("tangle_runtime_new");
		return 1;
	}
	return tangle_runtime_run(rt, main_task, NULL) == 0 ? 0 : 1;
}
