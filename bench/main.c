/*
 * main.c — tangle's benchmarks. Built twice from the same sources: against
 * libtangle with the debug table (tangle-bench) and without it
 * (tangle-bench-nodebug), so the difference is the table's cost.
 * Usage: tangle-bench [--list] [name-substring...]
 * Environment: BENCH_TARGET_MS, BENCH_REPS, BENCH_WORKERS,
 * BENCH_MUTEX_TASKS (see harness.h).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#ifndef BENCH_DEBUG_TABLE
#error "BENCH_DEBUG_TABLE must be set by bench/CMakeLists.txt"
#endif

static const bench *const groups[] = {
#if BENCH_HAVE_SWITCH
	bench_switch,
#endif
	bench_tasks,
	bench_sync,
};

static int wanted(const char *name, int argc, char **argv)
{
	if (argc <= 1)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]) != NULL)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int list = argc > 1 && strcmp(argv[1], "--list") == 0;
	int failed = 0;
	if (!list)
		printf("# tangle, debug table %s\n", BENCH_DEBUG_TABLE ? "on" : "off");
	for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
		for (const bench *b = groups[g]; b->name != NULL; b++) {
			if (list)
				puts(b->name);
			else if (wanted(b->name, argc, argv) && bench_run(b) != 0)
				failed = 1;
		}
	}
	return failed;
}
