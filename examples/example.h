/*
 * example.h — what the example programs share.
 *
 * Every example builds one hang pattern out of real-looking code, then
 * prints exactly one line on stdout, "<example>: hung" ("healthy-server:
 * running" for the healthy one), once the hang is in place and has lasted
 * past the thresholds of the tools' findings. After that line it only
 * waits. The e2e harness (tests/e2e) and scripts/demo-run.sh dump a core as
 * soon as they read the line.
 *
 * The line comes from a plain thread (not a task, so the tools do not see
 * it) armed by the main task just before the main task itself starts to
 * wait: printing from the main task would leave it running, for a few
 * microseconds, at the moment of the dump.
 *
 * Marks in the sources: a comment "wait: TAG" on a line where a task
 * waits; the manifest beside each example (NAME.expect) names these tags,
 * and the harness turns them into file:line, so lines may move freely.
 */
#ifndef EXAMPLE_H
#define EXAMPLE_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tangle.h"

/* Time the hang is left to settle before the line, where no finding has a
 * threshold: the tasks need microseconds to get there, and a second makes
 * the durations in the report readable. */
#define EXAMPLE_SETTLE_MS 1000

/* Print the one line and flush it: the harness dumps the process now. */
static inline void example_hung(const char *example)
{
	printf("%s: hung\n", example);
	fflush(stdout);
}

/* Setup failures are bugs in the example, not the pattern it shows. */
static inline void example_check(int err, const char *what)
{
	if (err != TANGLE_OK) {
		fprintf(stderr, "%s: %s\n", what, tangle_strerror(err));
		exit(1);
	}
}

static inline void *example_ptr(void *p, const char *what)
{
	if (p == NULL) {
		perror(what);
		exit(1);
	}
	return p;
}

/* Print the line from a plain thread in ms milliseconds. */
struct example_announce {
	const char *example;
	unsigned ms;
};

static inline void *example_announce_main(void *arg)
{
	struct example_announce *a = arg;
	struct timespec ts = {a->ms / 1000, (long)(a->ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0) {
	}
	example_hung(a->example);
	return NULL;
}

static inline void example_hung_after(const char *example, unsigned ms)
{
	static struct example_announce a;
	pthread_t thread;
	a.example = example;
	a.ms = ms;
	if (pthread_create(&thread, NULL, example_announce_main, &a) != 0) {
		perror("pthread_create");
		exit(1);
	}
	pthread_detach(thread);
}

/* Run main_task on a new runtime of `workers` worker threads. Hung
 * examples never come back from it. */
static inline int example_run(const char *name, unsigned workers,
                              tangle_fn main_task, void *arg)
{
	tangle_config cfg = {.workers = workers, .name = name};
	tangle_runtime *rt = example_ptr(tangle_runtime_new(&cfg),
	                                 "tangle_runtime_new");
	int err = tangle_runtime_run(rt, main_task, arg);
	tangle_runtime_free(rt);
	example_check(err, "tangle_runtime_run");
	return 0;
}

#endif /* EXAMPLE_H */
